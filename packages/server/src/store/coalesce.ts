import { type RateLimit, type RateLimiter, rateLimitHit } from '../limits/rate-limit'
import type { ConfirmEntry, UploadRow, UploadStore } from './upload-store'

/**
 * Calls that arrive while one is in flight wait for it and then go together, as one batch: an idle server sends
 * each call at once, a busy one sends one statement for all the calls that came in during the last. A client that
 * sends one `confirm` per file (a script, another uploader) then costs the database what a batching one does.
 * `run` answers the inputs in order; its failure is every waiting caller's.
 */
export function batchWhileInFlight<I, O>(
  run: (inputs: I[]) => Promise<O[]>,
  options: {
    /** Most calls per batch; the rest go in the next. Default 100: a statement for 100 callers stays short. */
    readonly maxBatch?: number
    /**
     * How long a batch in flight holds the next one back. Default 1,000 ms: far above a statement's time, and a
     * statement stuck on a broken connection (a partition can leave one unanswered for as long as TCP lets it)
     * must not hold every later call with it; past it the next batch goes beside it.
     */
    readonly stallMs?: number
  } = {},
): (input: I) => Promise<O> {
  const { maxBatch = 100, stallMs = 1000 } = options
  const waiting: { input: I; resolve: (output: O) => void; reject: (error: unknown) => void }[] = []
  let holding = false
  const next = () => {
    if (holding || waiting.length === 0) return
    const batch = waiting.splice(0, maxBatch)
    holding = true
    let held = true
    const release = () => {
      if (!held) return
      held = false
      clearTimeout(timer)
      holding = false
      next()
    }
    const timer = setTimeout(release, stallMs)
    new Promise<O[]>((resolve) => resolve(run(batch.map((call) => call.input))))
      .then(
        (outputs) => {
          batch.forEach((call, i) => {
            call.resolve(outputs[i] as O)
          })
        },
        (error: unknown) => {
          for (const call of batch) call.reject(error)
        },
      )
      .finally(release)
  }
  return (input) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ input, resolve, reject })
      next()
    })
}

/**
 * The store with `find` and the hook-less flip (`confirmMany`) batched while in flight, where it has the batch
 * methods to do it with; everything else as it was. Each caller gets what its own call would have answered: the
 * row of its id, or the rows of its entries that flipped (an id in two callers' entries is sent once and its row
 * goes to both, as a repeated `confirm` of a confirmed upload answers its record).
 */
export function coalescedStore<TTx>(store: UploadStore<TTx>): UploadStore<TTx> {
  const { findMany, confirmMany } = store
  const batchedFind = findMany
    ? batchWhileInFlight(async (ids: string[]) => {
        const rows = await findMany.call(store, [...new Set(ids)])
        const byId = new Map(rows.map((row) => [row.id, row]))
        return ids.map((id) => byId.get(id) ?? null)
      })
    : null
  const batchedConfirm = confirmMany
    ? batchWhileInFlight(async (calls: { entries: readonly ConfirmEntry[]; now: Date }[]) => {
        const entries = new Map<string, ConfirmEntry>()
        for (const call of calls)
          for (const entry of call.entries) if (!entries.has(entry.id)) entries.set(entry.id, entry)
        // The latest caller's clock: the flip happens now, for all of them, and its expiry test is the strictest.
        const now = new Date(Math.max(...calls.map((call) => call.now.getTime())))
        const rows = await confirmMany.call(store, [...entries.values()], now)
        const byId = new Map(rows.map((row) => [row.id, row]))
        return calls.map((call) => call.entries.flatMap((entry) => byId.get(entry.id) ?? []))
      })
    : null
  const find = batchedFind && ((id: string): Promise<UploadRow | null> => batchedFind(id))
  const confirmManyBatched =
    batchedConfirm &&
    ((entries: readonly ConfirmEntry[], now: Date): Promise<UploadRow[]> =>
      entries.length === 0 ? Promise.resolve([]) : batchedConfirm({ entries, now }))
  // A proxy, not a copy: the store may be a class instance (private fields, getters), so its own methods run
  // with the store itself as `this`.
  return new Proxy(store, {
    get(target, name) {
      if (name === 'find' && find) return find
      if (name === 'confirmMany' && confirmManyBatched) return confirmManyBatched
      const value: unknown = Reflect.get(target, name, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/**
 * The limiter with concurrent `hit`s of one key (one person's `create`s) counted by one `hitMany` while in flight.
 * The counter is atomic and the batch's hits take a contiguous range of it, so each caller gets the count its own
 * `hit` would have had in that order, and which hits fall past the limit is decided exactly as before.
 */
export function coalescedRateLimiter(limiter: RateLimiter): RateLimiter {
  const { hitMany } = limiter
  if (!hitMany) return limiter
  type Hit = RateLimit & { readonly now?: Date }
  /** One entry per key in use (not per key ever seen): dropped once no hit of it is waiting. */
  const byKey = new Map<string, { hit: (hit: Hit) => Promise<{ count: number; now: Date }>; users: number }>()
  return {
    hitMany: hitMany.bind(limiter),
    deleteWindowsBefore: (before) => limiter.deleteWindowsBefore(before),
    async hit(key, limit) {
      // Per key and limit: another limit for the same key is another counter's arithmetic.
      const batchKey = `${limit.limit}/${limit.windowMs}/${key}`
      let entry = byKey.get(batchKey)
      if (!entry) {
        entry = {
          users: 0,
          // A batch counts in the window of its latest hit: one straddling a window's end counts in the next.
          hit: batchWhileInFlight(async (hits: Hit[]) => {
            const now = new Date(Math.max(...hits.map((hit) => (hit.now ?? new Date()).getTime())))
            const { count } = await hitMany.call(limiter, key, hits.length, { ...limit, now })
            return hits.map((_, i) => ({ count: count - hits.length + i + 1, now }))
          }),
        }
        byKey.set(batchKey, entry)
      }
      entry.users++
      const own = entry.hit(limit).finally(() => {
        if (--(entry as { users: number }).users === 0) byKey.delete(batchKey)
      })
      const { count, now } = await own
      return rateLimitHit(count, limit, now)
    },
  }
}
