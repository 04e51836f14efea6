import { randomUUID } from 'node:crypto'
import {
  assertFileAllowed,
  buildObjectKey,
  CREATE_SIGNED_PARTS,
  type CreatedUpload,
  normalizeMimeType,
  planTransfer,
  UpkitError,
} from '@upkit/core'
import type { JsonValue } from '../store/upload-store'
import { authorizeCall, bucketRoute, parseInput, toUploadRecord } from './upload-access'
import type { UploadContext } from './upload-context'
import { presignParts } from './upload-helpers'

/** A route call as `uploads.create` receives it. */
export interface CreateCall {
  readonly route: string
  readonly input: unknown
  readonly fileName: string
  readonly size: number
  readonly mimeType: string
}

/**
 * `uploads.create`: checks the file against the route's policy, authorizes, reserves quota, writes the PENDING row
 * with the plan and answers with the first requests already signed.
 */
export async function createUpload(c: UploadContext, ctx: unknown, call: CreateCall): Promise<CreatedUpload> {
  const { store, storage } = c
  const route = bucketRoute(c.routes, call.route)
  const mimeType = normalizeMimeType(call.mimeType)
  assertFileAllowed(route.policy, { fileName: call.fileName, size: call.size, mimeType })
  const input = parseInput(route, call.input)
  const auth = await authorizeCall(route, ctx, input)
  const scope = { route: call.route, tenantId: auth.tenantId, ownerId: auth.ownerId }
  const quota = await c.limits?.beforeCreate(
    { tenantId: auth.tenantId, route: call.route, uploadedBy: auth.uploadedBy, ctx },
    { fileName: call.fileName, size: call.size },
  )
  const pending = await store.countPending({ ...scope, uploadedBy: auth.uploadedBy }, c.now())
  if (pending >= route.policy.maxFiles) {
    throw new UpkitError(
      'TOO_MANY_FILES',
      `At most ${route.policy.maxFiles} ${route.policy.label} can upload at once; wait for some to finish.`,
    )
  }

  const id = randomUUID()
  const key = buildObjectKey({
    prefix: c.keyPrefix,
    tenantId: auth.tenantId,
    route: call.route,
    uploadId: id,
  })
  const transfer = planTransfer(call.size)
  const expiresAt = new Date(c.now().getTime() + c.pendingTtlMs)
  // The multipart upload is created here rather than by the browser: it saves the browser a signing round
  // trip and an S3 round trip, and the row names it from its first moment, so a cancel or the sweeper always
  // finds it to abort. It comes before the row so the row is written once; should that write fail, it is
  // aborted below (and the sweeper aborts any multipart upload no PENDING row names).
  const s3UploadId =
    transfer.type === 'multipart'
      ? (await storage.createMultipartUpload({ key, contentType: mimeType })).uploadId
      : null
  const writeRow = store.insert(
    {
      id,
      ...scope,
      uploadedBy: auth.uploadedBy,
      key,
      fileName: call.fileName,
      mimeType,
      size: call.size,
      partSize: transfer.type === 'multipart' ? transfer.partSize : null,
      multipartUploadId: s3UploadId,
      input: input as JsonValue,
      metadata: auth.metadata as JsonValue,
      expiresAt,
    },
    quota,
  )
  // The first requests are signed with the answer so the browser's first byte needs no `sign` call.
  const signFirst = async (): Promise<Pick<CreatedUpload, 'signedPut' | 'signedParts'>> => {
    if (transfer.type === 'single') {
      const signed = await storage.presignPut({
        key,
        contentType: mimeType,
        contentLength: transfer.size,
        expiresInSeconds: c.signedUrlTtlSeconds,
      })
      return { signedPut: { ...signed, key }, signedParts: [] }
    }
    const first = Array.from({ length: Math.min(CREATE_SIGNED_PARTS, transfer.partCount) }, (_, i) => i + 1)
    return {
      signedPut: null,
      signedParts: await presignParts(
        c,
        { fileName: call.fileName, key },
        transfer,
        s3UploadId as string,
        first,
      ),
    }
  }
  // Both settle before any cleanup, so a row still being written cannot outlive the cleanup.
  const [row, signed] = await Promise.allSettled([writeRow, signFirst()])
  if (row.status === 'rejected' || signed.status === 'rejected') {
    if (s3UploadId !== null) await storage.abortMultipartUpload({ key, uploadId: s3UploadId }).catch(() => {})
    await store.deleteUnconfirmed(id).catch(() => {})
    throw row.status === 'rejected' ? row.reason : (signed as PromiseRejectedResult).reason
  }
  return {
    upload: toUploadRecord(row.value, c.paths),
    key,
    transfer,
    expiresAt: expiresAt.toISOString(),
    s3UploadId,
    ...signed.value,
  }
}
