import { TRPCError } from '@trpc/server'
import type { RateLimiter } from '@upkit/server'

const WINDOW_MS = 60_000
/** Guesses at one address: a typo or two is fine, a list of passwords would not be. */
export const SIGN_IN_PER_EMAIL_PER_MINUTE = 10
/** From one client address: an office behind one NAT signs in more than one person. */
export const SIGN_IN_PER_ADDRESS_PER_MINUTE = 30

/**
 * Counts sign-in attempts with upkit's rate limiter (`prismaRateLimiter`: rows in `UpkitRateLimit`), so every
 * instance of the app shares the count. Throws TOO_MANY_REQUESTS (429) with Retry-After once either count is over
 * its limit; every attempt counts, refused ones too, so hammering does not reopen the window early.
 */
export async function throttleSignIn(
  limiter: RateLimiter,
  attempt: { email: string; clientAddress: string; setHeader(name: string, value: string): void },
): Promise<void> {
  const hits = await Promise.all([
    limiter.hit(`sign-in:email:${attempt.email}`, {
      limit: SIGN_IN_PER_EMAIL_PER_MINUTE,
      windowMs: WINDOW_MS,
    }),
    limiter.hit(`sign-in:address:${attempt.clientAddress}`, {
      limit: SIGN_IN_PER_ADDRESS_PER_MINUTE,
      windowMs: WINDOW_MS,
    }),
  ])
  const refused = hits.filter((hit) => !hit.allowed)
  if (refused.length === 0) return
  const retryAfter = Math.max(...refused.map((hit) => hit.retryAfterSeconds))
  attempt.setHeader('retry-after', String(retryAfter))
  throw new TRPCError({
    code: 'TOO_MANY_REQUESTS',
    message: `Too many sign-in attempts. Try again in ${retryAfter} s.`,
  })
}
