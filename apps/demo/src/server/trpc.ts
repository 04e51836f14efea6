import { initTRPC } from '@trpc/server'
import type { UpkitContext } from '@upkit/server'
import { requireUser, upkitErrorFormatter } from '@upkit/server'

/** The demo's own context: upkit's contract plus what demo sign-in needs to set its cookie. */
export interface DemoContext extends UpkitContext {
  setSessionCookie(userId: string | null): void
}

const t = initTRPC.context<DemoContext>().create({ errorFormatter: upkitErrorFormatter })

export const router = t.router
export const publicProcedure = t.procedure
export const createCallerFactory = t.createCallerFactory

/** Tenant data is only reachable through this: `ctx.companyId` is the signed-in user's company, never input. */
export const companyProcedure = t.procedure.use(({ ctx, next }) => {
  const user = requireUser(ctx.user)
  return next({ ctx: { user, companyId: user.companyId } })
})
