import { MiB } from '@upkit/core'
import { describe, expect, it } from 'vitest'
import { Limiter, planPartRange, resumeState, signBatch } from './part-plan'

const plan = { type: 'multipart' as const, size: 20 * MiB + 5, partSize: 8 * MiB, partCount: 3 }

describe('parts', () => {
  it('cuts the file into planned ranges, the last one short', () => {
    expect([1, 2, 3].map((n) => planPartRange(plan, n))).toEqual([
      { start: 0, end: 8 * MiB },
      { start: 8 * MiB, end: 16 * MiB },
      { start: 16 * MiB, end: 20 * MiB + 5 },
    ])
    expect(() => planPartRange(plan, 4)).toThrow(RangeError)
  })

  it('resumes with the listed parts of the right size and re-sends the rest', () => {
    const state = resumeState(plan, [
      { partNumber: 1, etag: '"a"', size: 8 * MiB },
      { partNumber: 2, etag: '"b"', size: 3 * MiB },
      { partNumber: 7, etag: '"z"', size: 8 * MiB },
    ])
    expect(state).toEqual({ done: [{ partNumber: 1, etag: '"a"' }], missing: [2, 3] })
    expect(resumeState(plan, []).missing).toEqual([1, 2, 3])
  })

  it('signs a part together with the next ones lacking a fresh URL, up to the batch size', () => {
    const wanted = [1, 2, 3, 4, 5, 6]
    const fresh = new Set([3])
    expect(signBatch(2, wanted, (n) => fresh.has(n), 3)).toEqual([2, 4, 5])
    expect(signBatch(6, wanted, () => false, 100)).toEqual([6])
    expect(signBatch(1, wanted, () => false, 100)).toEqual(wanted)
  })
})

describe('Limiter', () => {
  it('runs at most `concurrency` tasks at once, first come first served', async () => {
    const limiter = new Limiter(2)
    const started: number[] = []
    let peak = 0
    const releases: (() => void)[] = []
    const tasks = [1, 2, 3, 4].map((n) =>
      limiter.run(
        () =>
          new Promise<number>((resolve) => {
            started.push(n)
            peak = Math.max(peak, limiter.active)
            releases.push(() => resolve(n))
          }),
      ),
    )
    await Promise.resolve()
    expect(started).toEqual([1, 2])
    releases.shift()?.()
    await new Promise((r) => setTimeout(r, 0))
    expect(started).toEqual([1, 2, 3])
    while (releases.length > 0 || started.length < 4) {
      releases.shift()?.()
      await new Promise((r) => setTimeout(r, 0))
    }
    expect(await Promise.all(tasks)).toEqual([1, 2, 3, 4])
    expect(peak).toBe(2)
    expect(limiter.active).toBe(0)
  })

  it('drops a queued task whose signal aborts, and frees the slot of a failed one', async () => {
    const limiter = new Limiter(1)
    let release = () => {}
    const first = limiter.run(() => new Promise<void>((resolve) => (release = resolve)))
    const controller = new AbortController()
    const queued = limiter.run(async () => 'never', controller.signal)
    controller.abort(new Error('cancelled'))
    await expect(queued).rejects.toThrow('cancelled')
    release()
    await first
    await expect(limiter.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(await limiter.run(async () => 'next')).toBe('next')
  })
})
