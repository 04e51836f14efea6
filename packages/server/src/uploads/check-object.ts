import { bytesMatchType, normalizeMimeType, SNIFF_BYTES, UpkitError } from '@upkit/core'
import type { ObjectHead } from '@upkit/storage'
import type { AnyBucketRoute } from '../routes/define-routes'
import type { UploadRow } from '../store/upload-store'
import type { UploadContext } from './upload-context'
import { markFailed } from './upload-helpers'

/**
 * Checks the object against the row: present, declared size and type, no Content-Encoding, first bytes matching
 * the type, all from one ranged GET. Resolves the head it checked, whose ETag confirm records. A mismatch deletes
 * the object and marks the row FAILED; a missing object leaves both alone (it may still be on its way).
 */
export async function checkObject(
  c: UploadContext,
  row: UploadRow,
  route: AnyBucketRoute,
): Promise<ObjectHead> {
  // One ranged GET answers both what a HEAD would (size from Content-Range, type, encoding, ETag) and the first
  // bytes: confirm sits between the last byte and the file showing up, so a round trip less is felt on every
  // upload, and a round trip the bucket (or an in-process local S3) does not have to serve. Without a content
  // check one byte is read, still one request.
  const read = await c.storage.readStart(row.key, route.policy.contentCheck ? SNIFF_BYTES : 1)
  if (!read) {
    throw new UpkitError(
      'OBJECT_MISSING',
      `"${row.fileName}" has not arrived in storage; send it before confirming.`,
    )
  }
  const { head } = read
  if (head.size !== row.size) {
    const reason = `"${row.fileName}" arrived with ${head.size} bytes instead of ${row.size}.`
    await markFailed(c, row, reason)
    throw new UpkitError('OBJECT_SIZE_MISMATCH', reason)
  }
  if (head.contentType !== undefined && normalizeMimeType(head.contentType) !== row.mimeType) {
    const reason = `"${row.fileName}" arrived as ${head.contentType} instead of ${row.mimeType}.`
    await markFailed(c, row, reason)
    throw new UpkitError('OBJECT_TYPE_MISMATCH', reason)
  }
  // S3 stores a Content-Encoding sent along an upload (the signature does not cover it) and serves it with every
  // download: `gzip` would make browsers decode bytes nobody checked in that form. No uploader needs one.
  if (head.contentEncoding !== undefined && head.contentEncoding.trim() !== '') {
    const reason = `"${row.fileName}" arrived with Content-Encoding ${head.contentEncoding}; send it without one.`
    await markFailed(c, row, reason)
    throw new UpkitError('OBJECT_TYPE_MISMATCH', reason)
  }
  if (route.policy.contentCheck && !bytesMatchType(row.mimeType, read.bytes)) {
    const reason = `The content of "${row.fileName}" is not ${row.mimeType}.`
    await markFailed(c, row, reason)
    throw new UpkitError('OBJECT_TYPE_MISMATCH', reason)
  }
  return head
}
