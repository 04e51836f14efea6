/** How long to keep trying one request before giving up; every field documents its default and why. */
export interface RetryPolicy {
  /**
   * First delay ceiling. Default 250 ms: a dropped connection usually works again at once, so the first retry
   * should be quick.
   */
  readonly baseDelayMs: number
  /** Largest delay ceiling. Default 8 s: during an outage we still probe often enough to resume within seconds. */
  readonly maxDelayMs: number
  /**
   * Give up when the next attempt would start later than this after the first failure. Default 60 s: outlasts a
   * storage restart or a brief network loss (stock `@uppy/aws-s3` gives up after ~1 s), yet a dead bucket still
   * ends in an error the person can act on within a minute.
   */
  readonly maxElapsedMs: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseDelayMs: 250, maxDelayMs: 8000, maxElapsedMs: 60_000 }

/**
 * "Full jitter" exponential backoff: a uniform delay in [0, min(cap, base * 2^attempt)). Jitter spreads the
 * retries of parallel parts so they do not hit a recovering bucket in lockstep.
 */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt))
  return Math.floor(random() * ceiling)
}

/** What to do after a failed attempt. */
export type RetryDecision =
  /** `afterMs`: the server said when (a rate limit's Retry-After); the wait is never shorter. */
  | { readonly action: 'retry'; readonly afterMs?: number }
  /** The signed URL expired: sign again and retry at once. */
  | { readonly action: 'resign' }
  | { readonly action: 'fail'; readonly error: Error }

export interface RetryContext {
  readonly policy: RetryPolicy
  readonly signal?: AbortSignal | undefined
  /** Called before each wait, so the UI can say "retrying". */
  readonly onRetry?: ((info: { attempt: number; delayMs: number; error: unknown }) => void) | undefined
  readonly now?: () => number
  readonly random?: () => number
}

export class AbortedError extends Error {
  override readonly name = 'AbortError'
  constructor() {
    super('The upload was cancelled.')
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError())
    const onAbort = () => {
      clearTimeout(timer)
      reject(new AbortedError())
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Runs `attempt` until it succeeds, `classify` says fail, or the policy's time runs out. `attempt` receives
 * `resign: true` when the previous failure was an expired signature.
 */
export async function withRetry<T>(
  attempt: (options: { resign: boolean }) => Promise<T>,
  classify: (error: unknown) => RetryDecision,
  context: RetryContext,
): Promise<T> {
  const now = context.now ?? Date.now
  let firstFailureAt: number | null = null
  let failures = 0
  let resign = false
  let resigns = 0
  for (;;) {
    if (context.signal?.aborted) throw new AbortedError()
    try {
      return await attempt({ resign })
    } catch (error) {
      if (context.signal?.aborted || error instanceof AbortedError) throw new AbortedError()
      const decision = classify(error)
      if (decision.action === 'fail') throw decision.error
      firstFailureAt ??= now()
      // An expired URL is fixed by signing again, without waiting; but a URL that keeps "expiring" means a
      // skewed clock, which backoff cannot fix either, so it counts as an ordinary failure after the first.
      if (decision.action === 'resign' && resigns === 0) {
        resigns++
        resign = true
        continue
      }
      resign = decision.action === 'resign'
      const delayMs = Math.max(
        backoffDelay(failures, context.policy, context.random),
        decision.action === 'retry' ? (decision.afterMs ?? 0) : 0,
      )
      failures++
      if (now() + delayMs - firstFailureAt > context.policy.maxElapsedMs) throw asError(error)
      context.onRetry?.({ attempt: failures, delayMs, error })
      await sleep(delayMs, context.signal)
    }
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}
