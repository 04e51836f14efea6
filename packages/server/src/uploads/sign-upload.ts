import { type SignedPart, type SignedRequest, type SignRequestInput, UpkitError } from '@upkit/core'
import type { UploadRow } from '../store/upload-store'
import type { UploadContext } from './upload-context'
import { findSignable, partLength, planOf, presignParts, wrongTransferError } from './upload-helpers'

/**
 * Keeps the row naming the multipart upload in use. `create` records the one it made, so upkit's own uploader
 * never causes a write here; a client that creates its own (the stock `@uppy/aws-s3` plugin signs a POST Create)
 * has it recorded on its first signing. Cancel and the sweeper do not rely on it: they abort every multipart
 * upload under the key, which also catches ids no row ever saw.
 */
async function recordMultipartUploadId(c: UploadContext, row: UploadRow, s3UploadId: string): Promise<void> {
  if (row.multipartUploadId === s3UploadId) return
  await c.store.setMultipartUploadId(row.id, s3UploadId)
  // A client that makes its own (the stock @uppy/aws-s3 plugin does) leaves the one `create` started unused:
  // abort it now rather than keep its parts until the sweeper, which would still abort it should this fail.
  if (row.multipartUploadId !== null) {
    await c.storage.abortMultipartUpload({ key: row.key, uploadId: row.multipartUploadId }).catch(() => {})
  }
}

/**
 * `uploads.sign`: signs one browser-to-bucket request, only for the caller's own PENDING upload, with the exact
 * Content-Length (of the file or of part N) and Content-Type signed so the bucket refuses anything else.
 */
export async function signRequest(
  c: UploadContext,
  ctx: unknown,
  uploadId: string,
  request: SignRequestInput,
): Promise<SignedRequest> {
  const { storage } = c
  const row = await findSignable(c, ctx, uploadId, request.key)
  const plan = planOf(row)
  const key = row.key
  const expiresInSeconds = c.signedUrlTtlSeconds
  const wrongTransfer = () => wrongTransferError(row, plan)

  if (request.uploadId === undefined) {
    if (request.method === 'PUT') {
      if (plan.type !== 'single') throw wrongTransfer()
      const signed = await storage.presignPut({
        key,
        contentType: row.mimeType,
        contentLength: plan.size,
        expiresInSeconds,
      })
      return { ...signed, key }
    }
    if (request.method === 'POST') {
      if (plan.type !== 'multipart') throw wrongTransfer()
      const signed = await storage.presignCreateMultipartUpload({
        key,
        contentType: row.mimeType,
        expiresInSeconds,
      })
      return { ...signed, key }
    }
    throw new UpkitError(
      'INVALID_INPUT',
      `A ${request.method} without a multipart upload id cannot be signed.`,
    )
  }

  if (plan.type !== 'multipart') throw wrongTransfer()
  const ref = { key, uploadId: request.uploadId, expiresInSeconds }
  await recordMultipartUploadId(c, row, request.uploadId)
  switch (request.method) {
    case 'PUT': {
      const partNumber = request.partNumber ?? Number.NaN
      const signed = await storage.presignUploadPart({
        ...ref,
        partNumber,
        contentLength: partLength(row, plan, partNumber),
      })
      return { ...signed, key }
    }
    case 'GET':
      return { ...(await storage.presignListParts(ref)), key }
    case 'POST':
      return { ...(await storage.presignCompleteMultipartUpload(ref)), key }
    case 'DELETE':
      return { ...(await storage.presignAbortMultipartUpload(ref)), key }
  }
}

/** `uploads.signParts`: signs up to 100 parts in one call, each with its exact Content-Length. */
export async function signParts(
  c: UploadContext,
  ctx: unknown,
  uploadId: string,
  s3UploadId: string,
  partNumbers: readonly number[],
): Promise<SignedPart[]> {
  const row = await findSignable(c, ctx, uploadId)
  await c.limits?.beforeSignParts(row)
  const plan = planOf(row)
  if (plan.type !== 'multipart') throw wrongTransferError(row, plan)
  // Out-of-range part numbers are refused before the row records anything.
  for (const partNumber of partNumbers) partLength(row, plan, partNumber)
  await recordMultipartUploadId(c, row, s3UploadId)
  return presignParts(c, row, plan, s3UploadId, partNumbers)
}
