import { TRPCError } from '@trpc/server'
import type { PrismaClient } from './database'

const WINDOW_MS = 60_000
/** Guesses at one address: a typo or two is fine, a list of emails is not. */
export const SIGN_IN_PER_EMAIL_PER_MINUTE = 10
/** From one client address: an office behind one NAT signs in more than one person. */
export const SIGN_IN_PER_ADDRESS_PER_MINUTE = 30

/**
 * Counts sign-in attempts in upkit's `UpkitRateLimit` table (fixed one-minute windows), so every instance of the
 * app shares the count. @upkit/store-prisma exports no limiter yet; this writes the same rows one would.
 * Throws TOO_MANY_REQUESTS (429) and sets Retry-After once either count is over its limit.
 */
export async function throttleSignIn(
  prisma: PrismaClient,
  attempt: { email: string; clientAddress: string; setHeader(name: string, value: string): void },
  now = Date.now(),
): Promise<void> {
  const windowStart = new Date(Math.floor(now / WINDOW_MS) * WINDOW_MS)
  const counts = await Promise.all(
    [
      [`sign-in:email:${attempt.email}`, SIGN_IN_PER_EMAIL_PER_MINUTE],
      [`sign-in:address:${attempt.clientAddress}`, SIGN_IN_PER_ADDRESS_PER_MINUTE],
    ].map(async ([key, limit]) => {
      // An upsert on the primary key is one INSERT ... ON CONFLICT DO UPDATE: exact under concurrency.
      const row = await prisma.upkitRateLimit.upsert({
        where: { key_windowStart: { key: key as string, windowStart } },
        create: { key: key as string, windowStart, count: 1 },
        update: { count: { increment: 1 } },
        select: { count: true },
      })
      return row.count > (limit as number)
    }),
  )
  if (counts.some(Boolean)) {
    const retryAfter = Math.ceil((windowStart.getTime() + WINDOW_MS - now) / 1000)
    attempt.setHeader('retry-after', String(retryAfter))
    throw new TRPCError({
      code: 'TOO_MANY_REQUESTS',
      message: `Too many sign-in attempts. Try again in ${retryAfter} s.`,
    })
  }
}
