import { initTRPC, TRPCError } from '@trpc/server'
import { isUpkitError } from '@upkit/core'
import type { UpkitContext, UpkitUser } from './context'
import { toTRPCError, upkitErrorFormatter } from './errors'

const t = initTRPC.context<UpkitContext>().create({ errorFormatter: upkitErrorFormatter })

export const router = t.router
export const createCallerFactory = t.createCallerFactory

/** Converts domain errors thrown by handlers into tRPC errors, once, for every procedure. */
const errorBoundary = t.middleware(async ({ next }) => {
  const result = await next()
  // tRPC wraps anything a handler throws in an INTERNAL_SERVER_ERROR whose cause is the original error.
  if (!result.ok && isUpkitError(result.error.cause)) throw toTRPCError(result.error.cause)
  return result
})

export const publicProcedure = t.procedure.use(errorBoundary)

/** Throws UNAUTHORIZED unless a user is signed in; the returned user is non-null for the type system too. */
export function requireUser(user: UpkitUser | null): UpkitUser {
  if (!user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to continue.' })
  return user
}

/**
 * Every procedure that touches tenant data is built on this: it requires a signed-in user and puts the
 * user's company id in `ctx.companyId`, which handlers must use in every query (never an id from the input).
 */
export const companyProcedure = publicProcedure.use(({ ctx, next }) => {
  const user = requireUser(ctx.user)
  return next({ ctx: { user, companyId: user.companyId } })
})
