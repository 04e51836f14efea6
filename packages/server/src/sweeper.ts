import { randomUUID } from 'node:crypto'
import type { BucketStorage, ListedObject } from '@upkit/storage'
import type { SweepCursors, UploadRow, UploadStore } from './store/upload-store'
import { BATCH, confirmPendingSlice, deleteOrphanSlice } from './sweeper-scans'

export interface SweepOptions {
  readonly store: UploadStore<unknown>
  readonly storage: BucketStorage
  /** Only objects under this prefix are ever listed or deleted (`createUpkit`'s `keyPrefix`). */
  readonly keyPrefix: string
  /** Default `new Date()`. */
  readonly now?: Date
  /**
   * Objects and multipart uploads younger than this are never treated as orphans, even without a row.
   * Default 1 h: a row is written before its URL is signed, so a fresh object without a row can only come from
   * a race with `remove`, and an hour leaves every in-flight request time to finish.
   */
  readonly orphanGraceMs?: number
  /**
   * Confirms one PENDING upload whose object is complete in the bucket (`uploadService.confirmComplete`). Without
   * it the sweeper confirms nothing.
   */
  readonly confirmComplete?: (row: UploadRow) => Promise<'confirmed' | 'failed' | 'skipped'>
  /**
   * How long after its object arrived (its last modification: the single PUT's end, or the completion of the
   * multipart upload) the sweeper confirms an upload the browser did not. Default 60 s: the browser confirms
   * within a second of the last byte, so only a closed tab is still unconfirmed then; a confirm that races the
   * sweeper anyway is harmless (one of them flips the row, the hook runs once).
   */
  readonly confirmGraceMs?: number | undefined
  /**
   * At most this many pending uploads are checked (a HEAD each, plus `confirm`'s ranged GET for a complete object)
   * per sweep, oldest first from where the last sweep stopped; the rest wait for the next one. Default 100.
   */
  readonly maxConfirmsPerSweep?: number | undefined
  /**
   * Keys of the bucket listing checked for orphans per sweep, resuming after the last sweep's key and wrapping at
   * the end. Default 10,000: ten LIST calls (S3 pages hold 1,000 keys) whatever the bucket's size. Orphans only
   * come from rare races and failed deletes and cost storage only, so covering 10 M objects in 1,000 sweeps
   * (about ten days at the default 15 minutes) is enough; raise it for a faster pass.
   */
  readonly orphanKeysPerSweep?: number | undefined
  /**
   * Incomplete multipart uploads no PENDING row names aborted per sweep. Default 1,000. The bucket's lifecycle
   * rule `AbortIncompleteMultipartUpload` (1 day; `upkit doctor` checks it) is what keeps their number low on
   * providers that have one; the sweeper's abort is the fallback for those that do not.
   */
  readonly maxMultipartAbortsPerSweep?: number | undefined
  /**
   * How long one sweep holds the store's lease (renewed between steps). Default 10 min, longer than a bounded
   * sweep takes; a crashed instance's lease lets another sweep once it ends.
   */
  readonly leaseMs?: number | undefined
}

export interface SweepReport {
  /** Set when another sweep holds the lease: this one did nothing. */
  readonly skipped?: 'another instance is sweeping'
  /** PENDING uploads whose object was complete in the bucket, confirmed without the browser. */
  readonly confirmedBySweeper: number
  /** Pending uploads checked for a complete object. */
  readonly checkedPending: number
  readonly expiredRows: number
  /** Keys of the bucket listing looked at for orphans (this sweep's slice). */
  readonly listedObjects: number
  readonly orphanObjects: number
  readonly abortedMultipartUploads: number
  /** Rate-limit windows removed (by `upkit.sweep`, which owns the limiter). */
  readonly rateLimitWindows?: number
}

const SKIPPED: SweepReport = {
  skipped: 'another instance is sweeping',
  confirmedBySweeper: 0,
  checkedPending: 0,
  expiredRows: 0,
  listedObjects: 0,
  orphanObjects: 0,
  abortedMultipartUploads: 0,
}

/**
 * Throws a `TypeError` naming the first bound that is not a positive whole number (a zero or fractional slice would
 * make a sweep list one key, or none, forever). `createUpkit` calls it at once, so a bad option fails the start.
 */
export function assertSweepBounds(
  options: Pick<
    SweepOptions,
    'maxConfirmsPerSweep' | 'orphanKeysPerSweep' | 'maxMultipartAbortsPerSweep' | 'leaseMs'
  >,
): void {
  for (const name of [
    'maxConfirmsPerSweep',
    'orphanKeysPerSweep',
    'maxMultipartAbortsPerSweep',
    'leaseMs',
  ] as const) {
    const value = options[name]
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0))
      throw new TypeError(`${name} must be a positive whole number, got ${JSON.stringify(value)}.`)
  }
}

/** Cursors of stores without `claimSweep`/`releaseSweep`, kept per store in this process. */
const localCursors = new WeakMap<object, SweepCursors>()

/**
 * Restores the invariant "every object has a row and every row's object is complete", at a cost that grows with
 * the pending and failed work, not with the bucket:
 * 1. PENDING, unexpired uploads older than the confirm grace are checked for a complete object the browser never
 *    confirmed (the tab closed after the last byte), `maxConfirmsPerSweep` per sweep from a cursor in the store,
 *    and confirmed with `confirmComplete` (the checks and hook `confirm` runs);
 * 2. PENDING and CANCELLED rows past their expiry and FAILED rows lose their object and the row (found by the
 *    store's index, no listing);
 * 3. objects under the key prefix that no row names are deleted, from a slice of the listing per sweep
 *    (`orphanKeysPerSweep` keys after a cursor in the store, wrapping at the end);
 * 4. multipart uploads that no PENDING row names are aborted (`maxMultipartAbortsPerSweep`; the bucket's
 *    lifecycle rule is the primary mechanism).
 * One sweep at a time across instances: the store's lease (`claimSweep`); a sweep that finds it taken does nothing
 * and reports `skipped`. Every step is idempotent, so a sweep that outlives its lease, or a store without one,
 * only repeats work.
 */
export async function sweepUploads(options: SweepOptions): Promise<SweepReport> {
  const { store, storage, keyPrefix } = options
  assertSweepBounds(options)
  const holder = randomUUID()
  const leaseMs = options.leaseMs ?? 10 * 60 * 1000
  let cursors: SweepCursors | null
  if (store.claimSweep) cursors = await store.claimSweep(holder, leaseMs)
  else cursors = localCursors.get(store) ?? { orphanKey: null, pendingRow: null }
  if (!cursors) return SKIPPED
  // A cursor left by a sweep under another prefix (the app's `keyPrefix` changed) would skip or end the scan early.
  if (cursors.orphanKey !== null && !cursors.orphanKey.startsWith(keyPrefix))
    cursors = { ...cursors, orphanKey: null }
  const renew = async () => {
    await store.claimSweep?.(holder, leaseMs)
  }
  const release = async (next: SweepCursors) => {
    if (store.releaseSweep) await store.releaseSweep(holder, next)
    else localCursors.set(store, next)
  }

  const now = options.now ?? new Date()
  const graceCutoff = now.getTime() - (options.orphanGraceMs ?? 60 * 60 * 1000)
  const confirmCutoff = now.getTime() - (options.confirmGraceMs ?? 60 * 1000)
  const maxConfirms = options.maxConfirmsPerSweep ?? 100
  const { confirmComplete } = options
  let next = cursors
  try {
    let confirmedBySweeper = 0
    let checkedPending = 0
    if (confirmComplete && store.pendingToCheck) {
      const slice = await confirmPendingSlice({
        store,
        storage,
        now,
        confirmCutoff,
        limit: maxConfirms,
        after: cursors.pendingRow,
        confirmComplete,
      })
      confirmedBySweeper = slice.confirmed
      checkedPending = slice.checked
      next = { ...next, pendingRow: slice.cursor }
      await renew()
    }

    const expiredRows = await removeAbandoned(store, storage, now)
    await renew()

    // Stores that cannot name their pending rows: the listing's slice shows which objects are complete.
    let confirmsLeft = confirmComplete && !store.pendingToCheck ? maxConfirms : 0
    const confirmListed = async (objects: ListedObject[]) => {
      const sizes = new Map<string, number>()
      for (const object of objects) {
        const modified = object.lastModified?.getTime()
        if (modified === undefined || modified <= confirmCutoff) sizes.set(object.key, object.size)
      }
      if (sizes.size === 0 || !confirmComplete) return
      for (const row of await store.unexpiredPending([...sizes.keys()], now)) {
        if (confirmsLeft <= 0) break
        if (sizes.get(row.key) !== row.size) continue
        confirmsLeft--
        checkedPending++
        if ((await confirmComplete(row)) === 'confirmed') confirmedBySweeper++
      }
    }
    const orphans = await deleteOrphanSlice({
      store,
      storage,
      keyPrefix,
      graceCutoff,
      limit: options.orphanKeysPerSweep ?? 10_000,
      after: cursors.orphanKey,
      onListed: confirmsLeft > 0 ? confirmListed : undefined,
    })
    next = { ...next, orphanKey: orphans.cursor }
    await renew()

    const abortedMultipartUploads = await abortStaleMultipart(
      store,
      storage,
      keyPrefix,
      graceCutoff,
      options.maxMultipartAbortsPerSweep ?? 1000,
    )
    return {
      confirmedBySweeper,
      checkedPending,
      expiredRows,
      listedObjects: orphans.listed,
      orphanObjects: orphans.orphans,
      abortedMultipartUploads,
    }
  } finally {
    await release(next)
  }
}

/** Step 2: abandoned rows, their objects and the rows, in batches until none is left. */
async function removeAbandoned(store: UploadStore<unknown>, storage: BucketStorage, now: Date) {
  let expiredRows = 0
  for (;;) {
    const abandoned = await store.listAbandoned(now, BATCH)
    if (abandoned.length === 0) break
    await storage.deleteObjects(abandoned.map((row) => row.key))
    let deleted = 0
    if (store.deleteUnconfirmedMany)
      deleted = await store.deleteUnconfirmedMany(abandoned.map((row) => row.id))
    else for (const row of abandoned) if (await store.deleteUnconfirmed(row.id)) deleted++
    expiredRows += deleted
    // A batch that deleted nothing would come back unchanged: stop rather than loop.
    if (abandoned.length < BATCH || deleted === 0) break
  }
  return expiredRows
}

/** Step 4: multipart uploads older than the grace that no PENDING row names, at most `max` per sweep. */
async function abortStaleMultipart(
  store: UploadStore<unknown>,
  storage: BucketStorage,
  keyPrefix: string,
  graceCutoff: number,
  max: number,
) {
  const multipart = await storage.listMultipartUploads({ prefix: keyPrefix })
  if (multipart.length === 0) return 0
  // A key whose row is no longer PENDING (confirmed or failed) has no use for a multipart upload, however young:
  // a CreateMultipartUpload whose answer was lost and that the SDK sent again leaves one such upload behind.
  const young = multipart.filter((u) => u.initiated !== undefined && u.initiated.getTime() > graceCutoff)
  const settled = young.length === 0 ? new Set<string>() : await store.knownKeys(young.map((u) => u.key))
  const stale = multipart.filter(
    (u) => !u.initiated || u.initiated.getTime() <= graceCutoff || settled.has(u.key),
  )
  if (stale.length === 0) return 0
  const pendingKeys = await store.pendingKeys(stale.map((u) => u.key))
  let aborted = 0
  for (const upload of stale) {
    if (aborted >= max) break
    if (pendingKeys.has(upload.key)) continue
    await storage.abortMultipartUpload({ key: upload.key, uploadId: upload.uploadId })
    aborted++
  }
  return aborted
}
