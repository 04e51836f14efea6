import { TRPCError } from '@trpc/server'
import { isUpkitError, UpkitError, type UploadRecord } from '@upkit/core'
import type { ObjectHead } from '@upkit/storage'
import { type AnyBucketRoute, routeOfType } from '../routes/define-routes'
import type { StoredThumbnail, UploadRow } from '../store/upload-store'
import { checkObject } from './check-object'
import { checkThumbnail } from './thumbnail'
import { findOwnUpload, toUploadRecord } from './upload-access'
import type { UploadContext } from './upload-context'
import { expiredError, hookArgs, markFailed } from './upload-helpers'

/**
 * PENDING -> CONFIRMED with the route's `onConfirmed` in the same store transaction, once `checkObject` passed.
 * Conditional on an unexpired PENDING row, so two concurrent confirms (the browser's and the sweeper's) cannot
 * both flip it and the hook runs once; a row that a cancel or the sweeper is removing (they delete the row before
 * the object) is never confirmed. Resolves null when another call won or the row left PENDING. A failing hook
 * marks the row FAILED and deletes the object.
 */
async function flipConfirmed(
  c: UploadContext,
  row: UploadRow,
  route: AnyBucketRoute,
  head: ObjectHead,
  ctx: unknown,
  thumbnail: StoredThumbnail | null,
): Promise<UploadRow | null> {
  const onConfirmed = route.config.onConfirmed
  // Without a hook there is nothing to run inside a transaction: the store's one-statement batch flip does it.
  if (!onConfirmed && c.store.confirmMany) {
    const [flipped] = await c.store.confirmMany([{ id: row.id, etag: head.etag ?? null, thumbnail }], c.now())
    return flipped ?? null
  }
  try {
    return await c.store.confirm(
      row.id,
      c.now(),
      async (tx, flipped) => {
        await onConfirmed?.(hookArgs(c, flipped, ctx, tx))
      },
      head.etag ?? null,
      thumbnail,
    )
  } catch (error) {
    const reason = `The app could not take "${row.fileName}".`
    await markFailed(c, row, reason)
    if (isUpkitError(error) || error instanceof TRPCError) throw error
    throw new UpkitError('HOOK_FAILED', `${reason} Upload it again.`, { cause: error })
  }
}

/**
 * `uploads.confirm`: PENDING -> CONFIRMED only after the object is in the bucket with the declared size and type,
 * and its first bytes match the type (when the route checks content), together with the route's `onConfirmed` in
 * one store transaction. On a mismatch, or when the hook fails, the object is deleted and the row marked FAILED.
 * A `thumbnail` (base64) is checked first and stored in the same transaction; a refused one changes nothing.
 * Idempotent.
 */
export async function confirmUpload(
  c: UploadContext,
  ctx: unknown,
  uploadId: string,
  thumbnailBase64?: string,
): Promise<UploadRecord> {
  const { row, route } = await findOwnUpload(c.store, c.routes, ctx, uploadId)
  return confirmOwnUpload(c, ctx, row, route, thumbnailBase64)
}

/** An upload whose checks before the flip passed: what its flip stores. */
export interface CheckedUpload {
  readonly row: UploadRow
  readonly head: ObjectHead
  readonly thumbnail: StoredThumbnail | null
}

/**
 * `confirm`'s checks before its flip, shared by `confirm` and `confirmMany` so both refuse exactly alike: the row's
 * status, its expiry, the thumbnail, then the object. Resolves the record of an upload already confirmed.
 */
export async function checkForConfirm(
  c: UploadContext,
  row: UploadRow,
  route: AnyBucketRoute,
  thumbnailBase64?: string,
): Promise<UploadRecord | CheckedUpload> {
  // A thumbnail sent again with a repeated confirm is ignored: a confirmed upload's thumbnail never changes.
  if (row.status === 'CONFIRMED') return toUploadRecord(row, c.paths)
  if (row.status === 'FAILED') {
    throw new UpkitError(
      'UPLOAD_NOT_PENDING',
      `The upload of "${row.fileName}" failed: ${row.failureReason ?? 'unknown reason'}`,
    )
  }
  // Checked before the object: a mismatch would delete it, and its placeholder is what keeps the key taken.
  if (row.status === 'CANCELLED') {
    throw new UpkitError('UPLOAD_NOT_PENDING', `The upload of "${row.fileName}" was cancelled.`)
  }
  // An expired row belongs to the sweeper, which may be deleting its object right now.
  if (row.expiresAt.getTime() <= c.now().getTime()) throw expiredError(row)
  // Before the object: a refused thumbnail must leave everything as it was (row PENDING, object in place), so the
  // browser can confirm again without one.
  const thumbnail = thumbnailBase64 === undefined ? null : await checkThumbnail(thumbnailBase64, row.fileName)
  const head = await checkObject(c, row, route)
  return { row, head, thumbnail }
}

/** `confirm` of a row already found to be the caller's own (`findOwnUpload`); `confirmMany` runs it per upload. */
export async function confirmOwnUpload(
  c: UploadContext,
  ctx: unknown,
  row: UploadRow,
  route: AnyBucketRoute,
  thumbnailBase64?: string,
): Promise<UploadRecord> {
  const checked = await checkForConfirm(c, row, route, thumbnailBase64)
  if (!('head' in checked)) return checked
  const confirmed = await flipConfirmed(c, row, route, checked.head, ctx, checked.thumbnail)
  if (confirmed) return toUploadRecord(confirmed, c.paths)
  const current = await c.store.find(row.id)
  if (current?.status !== 'CONFIRMED') {
    throw new UpkitError('UPLOAD_NOT_PENDING', `The upload of "${row.fileName}" was cancelled or expired.`)
  }
  return toUploadRecord(current, c.paths)
}

/**
 * Confirms, without a request, a PENDING upload whose object the sweeper found complete in the bucket (the
 * browser closed before calling `confirm`): the same checks as `confirm` (size, type, magic bytes, no
 * Content-Encoding, the ETag recorded) and the route's `onConfirmed` with `ctx: null`, in the same conditional
 * flip, so a browser confirming at the same moment gets the same record and the hook runs once. `authorize` is
 * not run: there is no caller, and the row records what it decided at create. A missing object leaves the row
 * alone; a failed check marks it FAILED, as `confirm` would. Resolves what happened.
 */
export async function confirmComplete(
  c: UploadContext,
  row: UploadRow,
): Promise<'confirmed' | 'failed' | 'skipped'> {
  const route = routeOfType(c.routes, row.route, 'bucket')
  if (!route) return 'skipped'
  if (row.status !== 'PENDING' || row.expiresAt.getTime() <= c.now().getTime()) return 'skipped'
  let head: ObjectHead
  try {
    head = await checkObject(c, row, route)
  } catch (error) {
    if (isUpkitError(error) && error.code === 'OBJECT_MISSING') return 'skipped'
    if (isUpkitError(error)) return 'failed'
    throw error
  }
  try {
    return (await flipConfirmed(c, row, route, head, null, null)) ? 'confirmed' : 'skipped'
  } catch (error) {
    if (isUpkitError(error) || error instanceof TRPCError) return 'failed'
    throw error
  }
}
