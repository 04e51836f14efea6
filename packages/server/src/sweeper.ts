import type { BucketStorage } from '@upkit/storage'
import type { UploadStore } from './store/upload-store'

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
}

export interface SweepReport {
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
 * 1. PENDING rows past their expiry and FAILED rows lose their object, their multipart upload and the row;
 * 2. objects under the key prefix that no row names are deleted;
 * 3. multipart uploads that no PENDING row names are aborted.
 * Safe to run at any time and from several processes: every step is idempotent.
 */
export async function sweepUploads(options: SweepOptions): Promise<SweepReport> {
  const { store, storage, keyPrefix } = options
  const now = options.now ?? new Date()
  const graceCutoff = now.getTime() - (options.orphanGraceMs ?? 60 * 60 * 1000)

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

  let orphanObjects = 0
  let batch: string[] = []
  const flush = async () => {
    if (batch.length === 0) return
    const known = await store.knownKeys(batch)
    const orphans = batch.filter((key) => !known.has(key))
    if (orphans.length > 0) await storage.deleteObjects(orphans)
    orphanObjects += orphans.length
    batch = []
  }
  for await (const object of storage.list({ prefix: keyPrefix })) {
    if (object.lastModified && object.lastModified.getTime() > graceCutoff) continue
    batch.push(object.key)
    if (batch.length >= BATCH) await flush()
  }
  await flush()

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
  return { expiredRows, orphanObjects, abortedMultipartUploads }
}
