import type { ConfirmManyResult, UploadRecord } from '@upkit/core'
import { mapBounded, refusalOf } from './batch-results'
import { confirmOwnUpload } from './confirm-upload'
import { findOwnUploads, type OwnUpload } from './upload-access'
import type { UploadContext } from './upload-context'

/**
 * How many uploads of one `confirmMany` are checked in the bucket at once. 8: each check is a HEAD plus a ranged
 * GET, so 8 keep 16 requests in flight, enough to hide the bucket's latency without one call taking all of the
 * SDK's sockets (50 by default) from the other requests the server is answering.
 */
export const CONFIRM_MANY_CONCURRENCY = 8

/** What `uploads.confirmMany` receives: the uploads to confirm, each with its optional thumbnail. */
export interface ConfirmManyCall {
  readonly uploads: readonly { readonly uploadId: string; readonly thumbnail?: string | undefined }[]
}

/**
 * `uploads.confirmMany`: `confirm` for each upload, answered per upload in order. The rows are read at once and
 * `authorize` runs once per route and stored input (see `findOwnUploads`); then each upload gets exactly
 * `confirm`'s checks (status, thumbnail, object) and its own flip + `onConfirmed` transaction, so a missing object,
 * a refused thumbnail or a failing hook fails that upload alone. An id repeated in one call is confirmed once and
 * answered the same at each place (confirm is idempotent). A failure that is not about one upload (the database
 * or the bucket unreachable) rejects the call once every upload has settled; each upload already confirmed stays
 * confirmed and confirming it again answers its record.
 */
export async function confirmManyUploads(
  c: UploadContext,
  ctx: unknown,
  call: ConfirmManyCall,
): Promise<ConfirmManyResult[]> {
  const ids = call.uploads.map((upload) => upload.uploadId)
  const found = await findOwnUploads(c.store, c.routes, ctx, ids)
  // One confirmation per distinct id (its first entry's thumbnail), so a repeated id cannot race itself.
  const firstIndex = new Map<string, number>()
  ids.forEach((id, i) => {
    if (!firstIndex.has(id)) firstIndex.set(id, i)
  })
  const confirmations = await mapBounded([...firstIndex.values()], CONFIRM_MANY_CONCURRENCY, async (i) => {
    const own = found[i] as PromiseSettledResult<OwnUpload>
    if (own.status === 'rejected') throw own.reason
    const { row, route } = own.value
    return confirmOwnUpload(c, ctx, row, route, call.uploads[i]?.thumbnail)
  })
  const byId = new Map([...firstIndex.keys()].map((id, j) => [id, confirmations[j]]))
  return ids.map((id) => {
    const settled = byId.get(id) as PromiseSettledResult<UploadRecord>
    return settled.status === 'fulfilled' ? { ok: true, upload: settled.value } : refusalOf(settled.reason)
  })
}
