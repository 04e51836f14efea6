// The sweeper as it was before issue #13 (commit 2057e7d, packages/server/src/sweeper.ts), kept verbatim but for
// its names and import path so `pnpm --filter @upkit/bench sweep` can time "before" against "after" on the same
// bucket and database: it lists the whole prefix every run.
import type { BucketStorage } from '@upkit/storage'
import type { UploadRow, UploadStore } from '../../packages/server/src/store/upload-store'

export interface SweepOptionsBefore {
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
   * Confirms one PENDING upload whose object the listing found complete (`uploadService.confirmComplete`). Without
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
   * At most this many uploads are checked (HEAD and first bytes) for confirmation per sweep; the rest wait for the
   * next one. Default 100.
   */
  readonly maxConfirmsPerSweep?: number | undefined
}

export interface SweepReportBefore {
  /** PENDING uploads whose object was complete in the bucket, confirmed without the browser. */
  readonly confirmedBySweeper: number
  readonly expiredRows: number
  readonly orphanObjects: number
  readonly abortedMultipartUploads: number
  /** Rate-limit windows removed (by `upkit.sweep`, which owns the limiter). */
  readonly rateLimitWindows?: number
}

/** Rows handled per store round trip: bounded memory whatever the backlog. */
const BATCH = 500

/**
 * Restores the invariant "every object has a row and every row's object is complete":
 * 0. PENDING, unexpired uploads whose object is complete in the bucket but which the browser never confirmed (the
 *    tab closed after the last byte) are confirmed with `confirmComplete`, the checks and hook `confirm` runs;
 * 1. PENDING rows past their expiry and FAILED rows lose their object, their multipart upload and the row;
 * 2. objects under the key prefix that no row names are deleted;
 * 3. multipart uploads that no PENDING row names are aborted.
 * Safe to run at any time and from several processes: every step is idempotent.
 *
 * Cost of step 0: no request per pending row. The bucket listing that step 2 makes anyway shows which objects
 * exist (a multipart upload shows up only once completed) with their size; only a PENDING row whose object is
 * listed with the declared size and older than `confirmGraceMs` is checked (a HEAD and one ranged GET), and only
 * `maxConfirmsPerSweep` of them per sweep. A row is checked while its object looks complete, so once: it leaves
 * PENDING (confirmed, or FAILED when a check fails); uploads still in flight or wrong-sized cost nothing.
 */
export async function sweepUploadsBefore(options: SweepOptionsBefore): Promise<SweepReportBefore> {
  const { store, storage, keyPrefix } = options
  const now = options.now ?? new Date()
  const graceCutoff = now.getTime() - (options.orphanGraceMs ?? 60 * 60 * 1000)
  const confirmCutoff = now.getTime() - (options.confirmGraceMs ?? 60 * 1000)
  let confirmsLeft = options.confirmComplete ? (options.maxConfirmsPerSweep ?? 100) : 0

  let confirmedBySweeper = 0
  let orphanObjects = 0
  let complete: { key: string; size: number }[] = []
  let old: string[] = []
  const confirmBatch = async () => {
    const listed = new Map(complete.map((object) => [object.key, object.size]))
    complete = []
    if (listed.size === 0 || !options.confirmComplete) return
    for (const row of await store.unexpiredPending([...listed.keys()], now)) {
      if (confirmsLeft <= 0) break
      // Wrong-sized: still being replaced, or not this row's bytes; left for the browser or for expiry.
      if (listed.get(row.key) !== row.size) continue
      confirmsLeft--
      if ((await options.confirmComplete(row)) === 'confirmed') confirmedBySweeper++
    }
  }
  const orphanBatch = async () => {
    if (old.length === 0) return
    const known = await store.knownKeys(old)
    const orphans = old.filter((key) => !known.has(key))
    if (orphans.length > 0) await storage.deleteObjects(orphans)
    orphanObjects += orphans.length
    old = []
  }
  for await (const object of storage.list({ prefix: keyPrefix })) {
    const modified = object.lastModified?.getTime()
    if (confirmsLeft > 0 && (modified === undefined || modified <= confirmCutoff)) {
      complete.push({ key: object.key, size: object.size })
      if (complete.length >= BATCH) await confirmBatch()
    }
    if (modified !== undefined && modified > graceCutoff) continue
    old.push(object.key)
    if (old.length >= BATCH) await orphanBatch()
  }
  await confirmBatch()
  await orphanBatch()

  let expiredRows = 0
  for (;;) {
    const abandoned = await store.listAbandoned(now, BATCH)
    if (abandoned.length === 0) break
    await storage.deleteObjects(abandoned.map((row) => row.key))
    let deleted = 0
    for (const row of abandoned) if (await store.deleteUnconfirmed(row.id)) deleted++
    expiredRows += deleted
    // A batch that deleted nothing would come back unchanged: stop rather than loop.
    if (abandoned.length < BATCH || deleted === 0) break
  }

  let abortedMultipartUploads = 0
  const multipart = await storage.listMultipartUploads({ prefix: keyPrefix })
  const stale = multipart.filter((u) => !u.initiated || u.initiated.getTime() <= graceCutoff)
  if (stale.length > 0) {
    const pendingKeys = await store.pendingKeys(stale.map((u) => u.key))
    for (const upload of stale) {
      if (pendingKeys.has(upload.key)) continue
      await storage.abortMultipartUpload({ key: upload.key, uploadId: upload.uploadId })
      abortedMultipartUploads++
    }
  }
  return { confirmedBySweeper, expiredRows, orphanObjects, abortedMultipartUploads }
}
