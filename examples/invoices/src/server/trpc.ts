import { initTRPC, TRPCError } from '@trpc/server'
import { upkitErrorFormatter } from '@upkit/server'

/** Who the bearer token belongs to. Not the demo's `user.companyId`: upkit never reads the context itself. */
export interface MemberAuth {
  readonly memberId: string
  readonly orgId: string
  /** sha256 of the bearer token, so sign-out can revoke exactly this token. */
  readonly tokenHash: string
}

/** The example's context: the `Authorization: Bearer <token>` header, resolved to a member, or nothing. */
export interface InvoicesContext {
  readonly auth: MemberAuth | null
}

const t = initTRPC.context<InvoicesContext>().create({ errorFormatter: upkitErrorFormatter })

export const router = t.router
export const publicProcedure = t.procedure
export const createCallerFactory = t.createCallerFactory

/** Every procedure of a signed-in member; upkit's procedures hang off it too. */
export const memberProcedure = t.procedure.use(({ ctx, next }) => {
  if (!ctx.auth) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to continue.' })
  return next({ ctx: { auth: ctx.auth } })
})
