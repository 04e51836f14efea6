import { UpkitError } from '@upkit/core'
import { abortMultipartUploads } from '@upkit/storage'
import type { UploadRow } from '../store/upload-store'
import { findOwnUpload } from './upload-access'
import type { UploadContext } from './upload-context'
import { hookArgs } from './upload-helpers'

/**
 * The row first and only while not CONFIRMED: a confirm racing this either wins (and the file stays) or finds a
 * CANCELLED row it cannot confirm. Resolves false when the row was confirmed (or is gone).
 */
async function cancelRow(c: UploadContext, row: UploadRow): Promise<boolean> {
  const lastSignedUrlExpiry = new Date(c.now().getTime() + c.signedUrlTtlSeconds * 1000)
  if (!(await c.store.markCancelled(row.id, lastSignedUrlExpiry))) return false
  // If these fail, the sweeper aborts what no PENDING row names and deletes the row's object with it.
  await abortMultipartUploads(c.storage, row.key)
  // Unconditional, so it replaces whatever a PUT stored before; a conditional PUT arriving later gets 412.
  await c.storage.putObject({
    key: row.key,
    body: new Uint8Array(0),
    contentType: 'application/octet-stream',
    contentLength: 0,
  })
  return true
}

/**
 * `uploads.cancel`: stops a PENDING upload: the row becomes CANCELLED, its multipart uploads are aborted and an
 * empty placeholder replaces any object. URLs signed before the cancel stay valid for `signedUrlTtlSeconds`; every
 * one carries `If-None-Match: *`, so the placeholder makes the bucket refuse them (412) rather than store an
 * object only the sweeper would find. The sweeper removes the row and placeholder once those URLs have expired.
 */
export async function cancelUpload(c: UploadContext, ctx: unknown, uploadId: string): Promise<void> {
  const { row } = await findOwnUpload(c.store, c.routes, ctx, uploadId)
  const alreadyUploaded = () =>
    new UpkitError('UPLOAD_NOT_PENDING', `"${row.fileName}" is already uploaded; delete it instead.`)
  if (row.status === 'CONFIRMED') throw alreadyUploaded()
  if (!(await cancelRow(c, row))) throw alreadyUploaded()
}

/**
 * `uploads.delete`: removes the row (with the route's `onDeleted` in the same transaction) first, then the object:
 * a confirmed row never points at a missing object.
 */
export async function deleteUpload(c: UploadContext, ctx: unknown, uploadId: string): Promise<void> {
  const { row, route } = await findOwnUpload(c.store, c.routes, ctx, uploadId)
  // An unconfirmed upload may still have live signed URLs: it is cancelled, which keeps its key taken.
  if (row.status !== 'CONFIRMED' && (await cancelRow(c, row))) return
  const onDeleted = route.config.onDeleted
  await c.store.delete(row.id, async (tx, deleted) => {
    if (deleted.status !== 'CONFIRMED') return
    await onDeleted?.(hookArgs(c, deleted, ctx, tx))
  })
  await abortMultipartUploads(c.storage, row.key)
  // If this fails the object is an orphan, which the sweeper removes.
  await c.storage.deleteObject(row.key)
}
