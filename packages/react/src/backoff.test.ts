import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { AbortedError, backoffDelay, DEFAULT_RETRY_POLICY, type RetryDecision, withRetry } from './backoff'

const retry = (): RetryDecision => ({ action: 'retry' })

describe('backoffDelay', () => {
  it('doubles the ceiling per attempt up to the cap, with full jitter below it', () => {
    const top = () => 0.999999
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((a) => backoffDelay(a, DEFAULT_RETRY_POLICY, top))).toEqual([
      249, 499, 999, 1999, 3999, 7999, 7999, 7999,
    ])
    expect(backoffDelay(3, DEFAULT_RETRY_POLICY, () => 0)).toBe(0)
    expect(backoffDelay(3, DEFAULT_RETRY_POLICY, () => 0.5)).toBe(1000)
  })
})

describe('withRetry', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('waits at least the server’s retry-after before trying again', async () => {
    const attempts: number[] = []
    const start = Date.now()
    const result = withRetry(
      async () => {
        attempts.push(Date.now() - start)
        if (attempts.length === 1) throw new Error('rate limited')
        return 'done'
      },
      () => ({ action: 'retry', afterMs: 30_000 }),
      { policy: DEFAULT_RETRY_POLICY, random: () => 0.999 },
    )
    await vi.advanceTimersByTimeAsync(29_999)
    expect(attempts).toEqual([0])
    await vi.advanceTimersByTimeAsync(1)
    await expect(result).resolves.toBe('done')
    expect(attempts).toEqual([0, 30_000])
  })

  it('outlasts a 10 s outage', async () => {
    const outageEndsAt = Date.now() + 10_000
    let attempts = 0
    const result = withRetry(
      async () => {
        attempts++
        if (Date.now() < outageEndsAt) throw new Error('connection refused')
        return 'done'
      },
      retry,
      { policy: DEFAULT_RETRY_POLICY, random: () => 0.999 },
    )
    await vi.advanceTimersByTimeAsync(20_000)
    await expect(result).resolves.toBe('done')
    // 250 + 500 + 1000 + 2000 + 4000 + 8000 ms of waits cross 10 s on the 7th attempt.
    expect(attempts).toBe(7)
  })

  it('gives up once the next attempt would start more than maxElapsedMs after the first failure', async () => {
    let attempts = 0
    const result = withRetry(
      async () => {
        attempts++
        throw new Error(`down ${attempts}`)
      },
      retry,
      { policy: { baseDelayMs: 250, maxDelayMs: 8000, maxElapsedMs: 60_000 }, random: () => 0.999 },
    )
    const settled = result.catch((error: Error) => error)
    await vi.advanceTimersByTimeAsync(70_000)
    const error = await settled
    expect(error).toBeInstanceOf(Error)
    // Waits of 249, 499, 999, 1998, 3996 ms, then 7992 ms: the 12th attempt starts at 55.7 s, a 13th would
    // start at 63.7 s, past the 60 s budget.
    expect(attempts).toBe(12)
    expect((error as Error).message).toBe('down 12')
  })

  it('fails at once when the classifier says so', async () => {
    let attempts = 0
    const refused = new Error('403 AccessDenied')
    const result = withRetry(
      async () => {
        attempts++
        throw refused
      },
      () => ({ action: 'fail', error: refused }),
      { policy: DEFAULT_RETRY_POLICY },
    )
    await expect(result).rejects.toBe(refused)
    expect(attempts).toBe(1)
  })

  it('re-signs without waiting after an expired signature, then backs off if it expires again', async () => {
    const seen: boolean[] = []
    const result = withRetry(
      async ({ resign }) => {
        seen.push(resign)
        if (seen.length < 3) throw new Error('Request has expired')
        return 'ok'
      },
      () => ({ action: 'resign' }),
      { policy: DEFAULT_RETRY_POLICY, random: () => 0.5 },
    )
    await vi.advanceTimersByTimeAsync(0)
    expect(seen).toEqual([false, true])
    await vi.advanceTimersByTimeAsync(200)
    await expect(result).resolves.toBe('ok')
    expect(seen).toEqual([false, true, true])
  })

  it('stops waiting when aborted', async () => {
    const controller = new AbortController()
    const onRetry = vi.fn()
    const result = withRetry(
      async () => {
        throw new Error('down')
      },
      retry,
      { policy: DEFAULT_RETRY_POLICY, signal: controller.signal, onRetry, random: () => 0.999 },
    )
    const settled = result.catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(10)
    expect(onRetry).toHaveBeenCalledTimes(1)
    controller.abort()
    expect(await settled).toBeInstanceOf(AbortedError)
  })
})
