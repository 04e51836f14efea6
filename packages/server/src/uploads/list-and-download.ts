import { IMAGE_TYPES, UpkitError, type UploadRecord } from '@upkit/core'
import { contentDisposition } from '@upkit/storage'
import type { StoredThumbnail } from '../store/upload-store'
import { authorizeCall, bucketRoute, findOwnUpload, parseInput, toUploadRecord } from './upload-access'
import type { UploadContext } from './upload-context'

/** `uploads.list`: confirmed uploads of one route and input (the route's `authorize` says whose), oldest first. */
export async function listUploads(
  c: UploadContext,
  ctx: unknown,
  call: { route: string; input: unknown },
): Promise<UploadRecord[]> {
  const route = bucketRoute(c.routes, call.route)
  const auth = await authorizeCall(route, ctx, parseInput(route, call.input))
  const rows = await c.store.listConfirmed({
    route: call.route,
    tenantId: auth.tenantId,
    ownerId: auth.ownerId,
  })
  return rows.map((row) => toUploadRecord(row, c.paths))
}

/**
 * `uploads.download` and `/files/:id`: a short-lived signed GET under the file's original name, with its recorded
 * (verified) Content-Type. `attachment` always downloads; `view` shows images inline when the route checked their
 * magic bytes, and downloads everything else.
 */
export async function downloadUrl(
  c: UploadContext,
  ctx: unknown,
  uploadId: string,
  mode: 'attachment' | 'view' = 'attachment',
): Promise<string> {
  const { storage } = c
  const { row, route } = await findOwnUpload(c.store, c.routes, ctx, uploadId)
  if (row.status !== 'CONFIRMED') throw new UpkitError('NOT_FOUND', 'This upload does not exist.')
  // Where the bucket did not refuse a replayed upload URL (no conditional writes), the object may no longer be
  // the one confirm checked. Such an upload is quarantined: kept (with its row, so the app's links and
  // `onDeleted` still work when someone deletes it) but never served. Rows confirmed before ETags were
  // recorded have none and are served as before.
  if (row.etag !== null) {
    const head = await storage.head(row.key)
    if (head?.etag !== row.etag) {
      throw new UpkitError(
        'OBJECT_CHANGED',
        `"${row.fileName}" was changed in storage after it was checked, so it is not served; delete it and upload it again.`,
      )
    }
  }
  // A bucket cannot send `X-Content-Type-Options: nosniff`, so nothing but a verified image is served under a
  // type a browser would render: everything else is an `application/octet-stream` attachment.
  const verifiedImage = route.policy.contentCheck && (IMAGE_TYPES as readonly string[]).includes(row.mimeType)
  const inline = mode === 'view' && verifiedImage
  return storage.presignGet({
    key: row.key,
    expiresInSeconds: c.downloadUrlTtlSeconds,
    responseContentDisposition: contentDisposition(inline ? 'inline' : 'attachment', row.fileName),
    responseContentType: verifiedImage ? row.mimeType : 'application/octet-stream',
    // Overrides whatever Cache-Control the upload's PUT stored (unsigned, so the uploader chose it): only the
    // signed-in browser keeps the file, and not beyond the URL's lifetime.
    responseCacheControl: `private, max-age=${c.downloadUrlTtlSeconds}`,
  })
}

/**
 * `/files/:id/thumbnail`: the thumbnail of the caller's own confirmed upload, under the same authorization as the
 * file (tenant and the route's `authorize` again); `null` when it is not confirmed or has none. Throws NOT_FOUND
 * like `downloadUrl` when the upload is missing or not the caller's.
 */
export async function readThumbnail(
  c: UploadContext,
  ctx: unknown,
  uploadId: string,
): Promise<StoredThumbnail | null> {
  const { row } = await findOwnUpload(c.store, c.routes, ctx, uploadId)
  if (row.status !== 'CONFIRMED' || row.thumbnailType === null) return null
  return c.store.findThumbnail(row.id)
}
