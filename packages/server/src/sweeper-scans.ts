import type { BucketStorage, ListedObject } from '@upkit/storage'
import type { SweepCursors, UploadRow, UploadStore } from './store/upload-store'

/** Rows or keys handled per store round trip: bounded memory whatever the backlog. */
export const BATCH = 500

/** Runs `work` over `items`, at most `concurrency` at a time. */
export async function eachLimited<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T
      await work(item)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
}

export interface ConfirmScan {
  readonly store: UploadStore<unknown>
  readonly storage: BucketStorage
  readonly now: Date
  /** Objects last modified after this (ms) are left for the browser to confirm. */
  readonly confirmCutoff: number
  readonly limit: number
  readonly after: SweepCursors['pendingRow']
  readonly confirmComplete: (row: UploadRow) => Promise<'confirmed' | 'failed' | 'skipped'>
}

/**
 * Checks the next `limit` pending rows (oldest first, after the cursor) for a complete object: a HEAD each, and
 * `confirmComplete` (its ranged GET, checks and flip) only for an object of the declared size that has been there
 * longer than the grace. A missing object (still on its way, or a multipart upload not completed) or a wrong-sized
 * one (being replaced, or not this row's bytes) is left as it is, for the browser or for expiry. Resolves the cursor
 * to resume from: null once the end is reached, so the next sweep starts again from the oldest.
 */
export async function confirmPendingSlice(
  scan: ConfirmScan,
): Promise<{ confirmed: number; checked: number; cursor: SweepCursors['pendingRow'] }> {
  const pendingToCheck = scan.store.pendingToCheck
  if (!pendingToCheck) return { confirmed: 0, checked: 0, cursor: null }
  const rows = await pendingToCheck.call(scan.store, {
    now: scan.now,
    // An object cannot be older than its row: rows younger than the grace need no request at all.
    createdBefore: new Date(scan.confirmCutoff),
    after: scan.after,
    limit: scan.limit,
  })
  let confirmed = 0
  // A few at a time: each check is a round trip or two to the bucket, and the flip a store transaction.
  await eachLimited(rows, 8, async (row) => {
    const head = await scan.storage.head(row.key)
    if (!head || head.size !== row.size) return
    if (head.lastModified !== undefined && head.lastModified.getTime() > scan.confirmCutoff) return
    if ((await scan.confirmComplete(row)) === 'confirmed') confirmed++
  })
  const last = rows.at(-1)
  const cursor = rows.length < scan.limit || !last ? null : { createdAt: last.createdAt, id: last.id }
  return { confirmed, checked: rows.length, cursor }
}

export interface OrphanScan {
  readonly store: UploadStore<unknown>
  readonly storage: BucketStorage
  readonly keyPrefix: string
  /** Objects modified after this (ms) are never orphans. */
  readonly graceCutoff: number
  readonly limit: number
  readonly after: string | null
  /**
   * Called with the listed objects, for stores without `pendingToCheck`: the confirm step then works from the
   * listing's slice, as it did from the whole listing before the store could name pending rows.
   */
  readonly onListed?: ((objects: ListedObject[]) => Promise<void>) | undefined
}

/**
 * Deletes the objects no row names among the next `limit` keys of the bucket listing after the cursor: at most
 * `limit / 1000 + 1` LIST calls (S3 pages hold 1000 keys), whatever the bucket's size. Resolves the cursor to
 * resume from: null when the listing reached the end, so the next sweep wraps around to the start of the prefix.
 */
export async function deleteOrphanSlice(
  scan: OrphanScan,
): Promise<{ orphans: number; listed: number; cursor: string | null }> {
  let orphans = 0
  let listed = 0
  let lastKey: string | null = null
  let reachedEnd = true
  let old: string[] = []
  let listedObjects: ListedObject[] = []
  const flush = async () => {
    if (listedObjects.length > 0 && scan.onListed) await scan.onListed(listedObjects)
    listedObjects = []
    if (old.length === 0) return
    const known = await scan.store.knownKeys(old)
    const found = old.filter((key) => !known.has(key))
    if (found.length > 0) await scan.storage.deleteObjects(found)
    orphans += found.length
    old = []
  }
  const startAfter = scan.after ?? undefined
  for await (const object of scan.storage.list({ prefix: scan.keyPrefix, startAfter })) {
    // A storage that does not know `startAfter` lists from the start: skipping keeps the scan correct there.
    if (startAfter !== undefined && object.key <= startAfter) continue
    listed++
    lastKey = object.key
    const modified = object.lastModified?.getTime()
    if (scan.onListed) listedObjects.push(object)
    if (modified === undefined || modified <= scan.graceCutoff) old.push(object.key)
    if (old.length >= BATCH || listedObjects.length >= BATCH) await flush()
    // Stop before asking for the next page: the slice's LIST calls are bounded by `limit`.
    if (listed >= scan.limit) {
      reachedEnd = false
      break
    }
  }
  await flush()
  return { orphans, listed, cursor: reachedEnd ? null : lastKey }
}
