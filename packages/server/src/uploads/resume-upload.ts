import { type CreatedUpload, UpkitError } from '@upkit/core'
import { findOwnUpload, NOT_FOUND_MESSAGE, toUploadRecord } from './upload-access'
import type { UploadContext } from './upload-context'
import { expiredError, notPendingError, planOf } from './upload-helpers'

/**
 * `uploads.resume`: the `CreatedUpload` of the caller's own PENDING, unexpired upload, so a browser that reloaded
 * mid-upload can go on where it stopped: the plan is rebuilt from the row (the part size `create` chose), with the
 * multipart upload `create` started. Nothing is signed here: the browser asks ListParts first and signs fresh URLs
 * for the missing parts only (`sign`/`signParts`), so URLs signed now would mostly go unused.
 *
 * Only the person who created it may resume it: a colleague in the same tenant passes `authorize` but gets
 * NOT_FOUND, like a stranger, because the browser that remembered the id is the creator's.
 */
export async function resumeUpload(c: UploadContext, ctx: unknown, uploadId: string): Promise<CreatedUpload> {
  const { row, auth } = await findOwnUpload(c.store, c.routes, ctx, uploadId)
  if (auth.uploadedBy !== row.uploadedBy) throw new UpkitError('NOT_FOUND', NOT_FOUND_MESSAGE)
  if (row.status !== 'PENDING') throw notPendingError(row)
  if (row.expiresAt.getTime() <= c.now().getTime()) throw expiredError(row)
  return {
    upload: toUploadRecord(row, c.paths),
    key: row.key,
    transfer: planOf(row),
    expiresAt: row.expiresAt.toISOString(),
    s3UploadId: row.multipartUploadId,
    signedPut: null,
    signedParts: [],
  }
}
