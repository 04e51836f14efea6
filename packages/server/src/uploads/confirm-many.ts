import { type ConfirmManyResult, UpkitError, type UploadRecord } from '@upkit/core'
import type { UploadRow } from '../store/upload-store'
import { mapBounded, refusalOf } from './batch-results'
import { type CheckedUpload, checkForConfirm, confirmOwnUpload } from './confirm-upload'
import { findOwnUploads, type OwnUpload, toUploadRecord } from './upload-access'
import type { UploadContext } from './upload-context'

/**
 * How many uploads of one `confirmMany` are checked in the bucket at once. 8: each check is one ranged GET, so 8
 * hide the bucket's latency without one call taking all of the SDK's sockets (50 by default) from the other
 * requests the server is answering.
 */
export const CONFIRM_MANY_CONCURRENCY = 8

/** What `uploads.confirmMany` receives: the uploads to confirm, each with its optional thumbnail. */
export interface ConfirmManyCall {
  readonly uploads: readonly { readonly uploadId: string; readonly thumbnail?: string | undefined }[]
}

/**
 * `uploads.confirmMany`: `confirm` for each upload, answered per upload in order. The rows are read at once and
 * `authorize` runs once per route and stored input (see `findOwnUploads`); then each upload gets exactly
 * `confirm`'s checks (status, thumbnail, object), `CONFIRM_MANY_CONCURRENCY` at a time, so a missing object or a
 * refused thumbnail fails that upload alone. The flip:
 * - for a route with an `onConfirmed` hook, each upload its own flip + hook transaction (`confirm`'s), so a failing
 *   hook fails that upload alone;
 * - for routes without one, the uploads whose checks passed are flipped together in one statement
 *   (`UploadStore.confirmMany`, when the store has it): nothing can fail one of them alone any more, and 100
 *   transactions cost the database far more than one.
 * An id repeated in one call is confirmed once and answered the same at each place (confirm is idempotent). A
 * failure that is not about one upload (the database or the bucket unreachable) rejects the call once every upload
 * has settled; each upload already confirmed stays confirmed and confirming it again answers its record.
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
  const flipTogether = c.store.confirmMany !== undefined
  const settled = await mapBounded(
    [...firstIndex.values()],
    CONFIRM_MANY_CONCURRENCY,
    async (i): Promise<UploadRecord | CheckedUpload> => {
      const own = found[i] as PromiseSettledResult<OwnUpload>
      if (own.status === 'rejected') throw own.reason
      const { row, route } = own.value
      const thumbnail = call.uploads[i]?.thumbnail
      if (!flipTogether || route.config.onConfirmed) return confirmOwnUpload(c, ctx, row, route, thumbnail)
      return checkForConfirm(c, row, route, thumbnail)
    },
  )
  const confirmations = await flipChecked(c, settled)
  const byId = new Map([...firstIndex.keys()].map((id, j) => [id, confirmations[j]]))
  return ids.map((id) => {
    const result = byId.get(id) as PromiseSettledResult<UploadRecord>
    return result.status === 'fulfilled' ? { ok: true, upload: result.value } : refusalOf(result.reason)
  })
}

/**
 * Flips the checked uploads in one `UploadStore.confirmMany` and turns every settled result into a record. A row
 * the statement did not flip left PENDING meanwhile (a cancel, the sweeper, a concurrent confirm): as `confirm`,
 * it is answered with its record if it is CONFIRMED now, else UPLOAD_NOT_PENDING.
 */
async function flipChecked(
  c: UploadContext,
  settled: PromiseSettledResult<UploadRecord | CheckedUpload>[],
): Promise<PromiseSettledResult<UploadRecord>[]> {
  const isChecked = (value: UploadRecord | CheckedUpload): value is CheckedUpload => 'head' in value
  const checked = settled.flatMap((s) => (s.status === 'fulfilled' && isChecked(s.value) ? [s.value] : []))
  const flipped = new Map<string, UploadRow>()
  if (checked.length > 0 && c.store.confirmMany) {
    const rows = await c.store.confirmMany(
      checked.map(({ row, head, thumbnail }) => ({ id: row.id, etag: head.etag ?? null, thumbnail })),
      c.now(),
    )
    for (const row of rows) flipped.set(row.id, row)
  }
  return Promise.all(
    settled.map(async (s): Promise<PromiseSettledResult<UploadRecord>> => {
      if (s.status === 'rejected' || !isChecked(s.value)) return s as PromiseSettledResult<UploadRecord>
      const { row } = s.value
      try {
        const current = flipped.get(row.id) ?? (await c.store.find(row.id))
        if (current?.status !== 'CONFIRMED') {
          throw new UpkitError(
            'UPLOAD_NOT_PENDING',
            `The upload of "${row.fileName}" was cancelled or expired.`,
          )
        }
        return { status: 'fulfilled', value: toUploadRecord(current, c.paths) }
      } catch (reason) {
        return { status: 'rejected', reason }
      }
    }),
  )
}
