import { initTRPC, TRPCError } from '@trpc/server'
import { upkitErrorFormatter } from '@upkit/server'

/** The signed-in user, as the demo's session resolves it. */
export interface DemoUser {
  readonly id: string
  readonly companyId: string
}

/** The demo's context: who is signed in, from where, and how demo sign-in starts and ends sessions. */
export interface DemoContext {
  readonly user: DemoUser | null
  /** The socket's address: the demo trusts no forwarding header, so a client cannot pick its own. */
  readonly clientAddress: string
  startSession(userId: string): Promise<void>
  endSession(): Promise<void>
  /** Sets a response header (Retry-After on a throttled sign-in). */
  setHeader(name: string, value: string): void
}

const t = initTRPC.context<DemoContext>().create({ errorFormatter: upkitErrorFormatter })

export const router = t.router
export const publicProcedure = t.procedure
export const createCallerFactory = t.createCallerFactory

/** Every procedure that needs a signed-in user; upkit's procedures are built on it too. */
export const authedProcedure = t.procedure.use(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to continue.' })
  return next({ ctx: { user: ctx.user } })
})

/** Tenant data is only reachable through this: `ctx.companyId` is the signed-in user's company, never input. */
export const companyProcedure = authedProcedure.use(({ ctx, next }) =>
  next({ ctx: { companyId: ctx.user.companyId } }),
)
