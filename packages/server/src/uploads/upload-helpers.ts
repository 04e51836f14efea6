import { partContentLength, type SignedPart, type TransferPlan, UpkitError } from '@upkit/core'
import type { Metadata } from '../routes/define-routes'
import type { UploadRow } from '../store/upload-store'
import { findOwnUpload, toUploadRecord } from './upload-access'
import type { UploadContext } from './upload-context'

/** The plan a row was created with: `create` stores the part size it chose, so every later call agrees with it. */
export function planOf(row: Pick<UploadRow, 'size' | 'partSize'>): TransferPlan {
  if (row.partSize === null) return { type: 'single', size: row.size }
  return {
    type: 'multipart',
    size: row.size,
    partSize: row.partSize,
    partCount: Math.ceil(row.size / row.partSize),
  }
}

export function notPendingError(row: UploadRow): UpkitError {
  return new UpkitError('UPLOAD_NOT_PENDING', `"${row.fileName}" is already ${row.status.toLowerCase()}.`)
}

export function expiredError(row: UploadRow): UpkitError {
  return new UpkitError('UPLOAD_EXPIRED', `The upload of "${row.fileName}" expired; start it again.`)
}

/** The caller's own upload, still PENDING and unexpired; `key`, when given, must be its key. */
export async function findSignable(
  c: UploadContext,
  ctx: unknown,
  uploadId: string,
  key?: string,
): Promise<UploadRow> {
  const { row } = await findOwnUpload(c.store, c.routes, ctx, uploadId)
  if (key !== undefined && row.key !== key)
    throw new UpkitError('FORBIDDEN', 'That key does not belong to this upload.')
  if (row.status !== 'PENDING') throw notPendingError(row)
  if (row.expiresAt.getTime() < c.now().getTime()) throw expiredError(row)
  return row
}

export function wrongTransferError(row: UploadRow, plan: TransferPlan): UpkitError {
  const expected = plan.type === 'single' ? 'a single PUT' : 'a multipart upload'
  return new UpkitError('INVALID_INPUT', `"${row.fileName}" must be sent as ${expected}.`)
}

export function partLength(
  row: Pick<UploadRow, 'fileName'>,
  plan: TransferPlan & { type: 'multipart' },
  partNumber: number,
): number {
  const length = partContentLength(plan, partNumber)
  if (length === null)
    throw new UpkitError('INVALID_INPUT', `Part numbers of "${row.fileName}" go from 1 to ${plan.partCount}.`)
  return length
}

/** Presigned part URLs, each with its exact Content-Length; the lengths are checked before anything is signed. */
export async function presignParts(
  c: UploadContext,
  row: Pick<UploadRow, 'fileName' | 'key'>,
  plan: TransferPlan & { type: 'multipart' },
  s3UploadId: string,
  partNumbers: readonly number[],
): Promise<SignedPart[]> {
  const lengths = partNumbers.map((partNumber) => partLength(row, plan, partNumber))
  return Promise.all(
    partNumbers.map(async (partNumber, i) => {
      const signed = await c.storage.presignUploadPart({
        key: row.key,
        uploadId: s3UploadId,
        partNumber,
        contentLength: lengths[i] as number,
        expiresInSeconds: c.signedUrlTtlSeconds,
      })
      return { partNumber, url: signed.url, headers: signed.headers }
    }),
  )
}

export async function markFailed(c: UploadContext, row: UploadRow, reason: string): Promise<void> {
  // The row first, the object only if this call flipped it: a cancel that took the row meanwhile has put its
  // empty placeholder under the key (what keeps URLs signed before it from writing), which must stay. Should
  // the delete not happen (a crash), the FAILED row still names the object and the sweeper removes both.
  const flipped = await c.store.markFailed(row.id, reason)
  if (flipped !== false) await c.storage.deleteObject(row.key)
}

/** What the route's hooks get: the stored input and metadata (what `authorize` said at create), never the key. */
export function hookArgs(c: UploadContext, row: UploadRow, ctx: unknown, tx: unknown) {
  const { input, tenantId, ownerId } = row
  return {
    upload: toUploadRecord(row, c.paths),
    input,
    metadata: row.metadata as Metadata,
    tenantId,
    ownerId,
    ctx,
    tx,
  }
}
