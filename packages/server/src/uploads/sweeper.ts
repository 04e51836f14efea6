import { type PrismaClient, UploadStatus } from '@upkit/db'
import type { BucketStorage } from '@upkit/storage'

export interface SweepOptions {
  readonly prisma: PrismaClient
  readonly storage: BucketStorage
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
}

/** Every object upkit writes lives under this prefix (see `buildObjectKey`). */
const KEY_ROOT = 'companies/'

/**
 * Restores the invariant "every object has a row and every row's object is complete":
 * 1. PENDING rows past their expiry and FAILED rows lose their object, their multipart upload and the row;
 * 2. objects under `companies/` that no row names are deleted;
 * 3. multipart uploads that no PENDING row names are aborted.
 * Safe to run at any time and from several processes: every step is idempotent.
 */
export async function sweepUploads(options: SweepOptions): Promise<SweepReport> {
  const { prisma, storage } = options
  const now = options.now ?? new Date()
  const graceCutoff = now.getTime() - (options.orphanGraceMs ?? 60 * 60 * 1000)

  const expired = await prisma.upload.findMany({
    where: {
      OR: [{ status: UploadStatus.PENDING, expiresAt: { lt: now } }, { status: UploadStatus.FAILED }],
    },
    select: { id: true, key: true },
  })
  if (expired.length > 0) {
    await storage.deleteObjects(expired.map((row) => row.key))
    await prisma.upload.deleteMany({
      where: { id: { in: expired.map((row) => row.id) }, status: { not: UploadStatus.CONFIRMED } },
    })
  }

  let orphanObjects = 0
  let batch: string[] = []
  const flush = async () => {
    if (batch.length === 0) return
    const known = await prisma.upload.findMany({ where: { key: { in: batch } }, select: { key: true } })
    const knownKeys = new Set(known.map((row) => row.key))
    const orphans = batch.filter((key) => !knownKeys.has(key))
    if (orphans.length > 0) await storage.deleteObjects(orphans)
    orphanObjects += orphans.length
    batch = []
  }
  for await (const object of storage.list({ prefix: KEY_ROOT })) {
    if (object.lastModified && object.lastModified.getTime() > graceCutoff) continue
    batch.push(object.key)
    if (batch.length >= 500) await flush()
  }
  await flush()

  let abortedMultipartUploads = 0
  const multipart = await storage.listMultipartUploads({ prefix: KEY_ROOT })
  const stale = multipart.filter((u) => !u.initiated || u.initiated.getTime() <= graceCutoff)
  if (stale.length > 0) {
    const pending = await prisma.upload.findMany({
      where: { key: { in: stale.map((u) => u.key) }, status: UploadStatus.PENDING },
      select: { key: true },
    })
    const pendingKeys = new Set(pending.map((row) => row.key))
    for (const upload of stale) {
      if (pendingKeys.has(upload.key)) continue
      await storage.abortMultipartUpload({ key: upload.key, uploadId: upload.uploadId })
      abortedMultipartUploads++
    }
  }
  return { expiredRows: expired.length, orphanObjects, abortedMultipartUploads }
}
