/** At most `limit` hits per fixed window of `windowMs`. */
export interface RateLimit {
  readonly limit: number
  readonly windowMs: number
}

export interface RateLimitHit {
  /** Whether this hit is within the limit (it is counted either way). */
  readonly allowed: boolean
  /** Hits in the current window, this one included. */
  readonly count: number
  /** Whole seconds until the window ends (at least 1): when a refused caller may try again. */
  readonly retryAfterSeconds: number
}

/**
 * Counters shared by every instance of the app (`prismaRateLimiter(prisma)` keeps them in PostgreSQL): a limit
 * kept in process memory would multiply by the number of instances and reset on every deploy.
 */
export interface RateLimiter {
  /** Counts one hit of `key` in the current fixed window and says whether it is within `limit`. */
  hit(key: string, limit: RateLimit & { readonly now?: Date }): Promise<RateLimitHit>
  /**
   * Counts `hits` hits of `key` at once (a `createMany` of `hits` files) and resolves the window's count after
   * them, as `hit` would after the last. Atomic like `hit`: concurrent callers each get a contiguous range of the
   * counter, so which hits fall past the limit is decided exactly. Optional: without it upkit calls `hit` once
   * per hit (one statement each).
   */
  hitMany?(
    key: string,
    hits: number,
    limit: RateLimit & { readonly now?: Date },
  ): Promise<{ readonly count: number }>
  /** Removes windows that started before `before`; resolves how many. The sweeper calls it. */
  deleteWindowsBefore(before: Date): Promise<number>
}

/** The start of the fixed window `now` falls in (windows are aligned to the epoch, so instances agree). */
export function windowStartOf(now: Date, windowMs: number): Date {
  return new Date(Math.floor(now.getTime() / windowMs) * windowMs)
}

/** The answer for a hit that brought the window's count to `count`. */
export function rateLimitHit(count: number, limit: RateLimit, now: Date): RateLimitHit {
  const end = windowStartOf(now, limit.windowMs).getTime() + limit.windowMs
  return {
    allowed: count <= limit.limit,
    count,
    retryAfterSeconds: Math.max(1, Math.ceil((end - now.getTime()) / 1000)),
  }
}

/**
 * How many of `hits` hits that brought the window's count to `count` are within `limit`: the first ones, up to
 * what was left before them (hits of the same window are counted in order, so the overflow is the last ones).
 */
export function allowedOfHits(count: number, hits: number, limit: RateLimit): number {
  return Math.max(0, Math.min(hits, limit.limit - (count - hits)))
}

export function assertRateLimit(name: string, limit: RateLimit): void {
  if (!Number.isSafeInteger(limit.limit) || limit.limit < 1)
    throw new TypeError(`rateLimits.${name}.limit must be a whole number >= 1, got ${limit.limit}.`)
  if (!Number.isSafeInteger(limit.windowMs) || limit.windowMs < 1000)
    throw new TypeError(`rateLimits.${name}.windowMs must be at least 1000, got ${limit.windowMs}.`)
}
