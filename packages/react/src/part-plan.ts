import { partRange, type TransferPlan } from '@upkit/core'
import type { ListedPart, UploadedPart } from './s3-xml'

export type MultipartPlan = Extract<TransferPlan, { type: 'multipart' }>

/** Byte range [start, end) of part `partNumber` (1-based) of the plan; throws for a part outside it. */
export function planPartRange(plan: MultipartPlan, partNumber: number): { start: number; end: number } {
  const range = partRange(plan, partNumber)
  if (range === null) throw new RangeError(`Part ${partNumber} is outside a plan of ${plan.partCount} parts.`)
  return range
}

/**
 * Which parts still need sending, given what ListParts reports. A listed part only counts when its size is
 * the planned one: a part cut short by a crash is sent again rather than trusted.
 */
export function resumeState(
  plan: MultipartPlan,
  listed: readonly ListedPart[],
): { done: UploadedPart[]; missing: number[] } {
  const byNumber = new Map(listed.map((p) => [p.partNumber, p]))
  const done: UploadedPart[] = []
  const missing: number[] = []
  for (let n = 1; n <= plan.partCount; n++) {
    const part = byNumber.get(n)
    const { start, end } = planPartRange(plan, n)
    if (part && part.size === end - start) done.push({ partNumber: n, etag: part.etag })
    else missing.push(n)
  }
  return { done, missing }
}

/**
 * The parts to sign together with `partNumber`: it first, then the next ones in `wanted` that lack a fresh
 * URL, up to `batchSize` (the server signs at most 100 per call).
 */
export function signBatch(
  partNumber: number,
  wanted: readonly number[],
  hasFreshUrl: (partNumber: number) => boolean,
  batchSize: number,
): number[] {
  const batch = [partNumber]
  const from = wanted.indexOf(partNumber)
  for (let i = from + 1; i < wanted.length && batch.length < batchSize; i++) {
    const n = wanted[i] as number
    if (!hasFreshUrl(n)) batch.push(n)
  }
  return batch
}

/**
 * A FIFO limit on concurrent tasks. Shared by every file of one uploader so several files together still use
 * at most `concurrency` connections, and the first file finishes first instead of all finishing last.
 */
export class Limiter {
  #active = 0
  readonly #queue: (() => void)[] = []

  constructor(readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError('concurrency must be a positive integer')
  }

  get active(): number {
    return this.#active
  }

  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.#acquire(signal)
    try {
      return await task()
    } finally {
      this.#release()
    }
  }

  #acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (this.#active < this.concurrency) {
      this.#active++
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort)
        this.#active++
        resolve()
      }
      const onAbort = () => {
        const index = this.#queue.indexOf(grant)
        if (index >= 0) this.#queue.splice(index, 1)
        reject(signal?.reason)
      }
      this.#queue.push(grant)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  #release(): void {
    this.#active--
    this.#queue.shift()?.()
  }
}

/**
 * Requests to one bucket origin in flight at once across the whole page. 6 is what browsers allow per origin
 * over HTTP/1.1; beyond it requests queue inside the browser, invisible to us, with their stall timers running.
 */
const CONNECTIONS_PER_ORIGIN = 6
const originLimiters = new Map<string, Limiter>()

/** The page-wide limiter of `url`'s origin, shared by every uploader. */
export function originLimiter(url: string): Limiter {
  let origin: string
  try {
    origin = new URL(url).origin
  } catch {
    origin = url
  }
  let limiter = originLimiters.get(origin)
  if (!limiter) {
    limiter = new Limiter(CONNECTIONS_PER_ORIGIN)
    originLimiters.set(origin, limiter)
  }
  return limiter
}
