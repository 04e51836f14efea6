import { initTRPC, TRPCError } from '@trpc/server'
import { upkitErrorFormatter } from '@upkit/server'

/** Who calls: a tenant name from the `x-tenant` header. Trivial on purpose; this app proves packaging, not auth. */
export interface AppContext {
  readonly tenant: string | null
}

const t = initTRPC.context<AppContext>().create({ errorFormatter: upkitErrorFormatter })

export const router = t.router

export const authedProcedure = t.procedure.use(({ ctx, next }) => {
  if (!ctx.tenant) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Send an x-tenant header.' })
  return next({ ctx: { tenant: ctx.tenant } })
})
