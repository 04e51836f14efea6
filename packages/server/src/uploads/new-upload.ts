import { randomUUID } from 'node:crypto'
import {
  assertFileAllowed,
  buildObjectKey,
  CREATE_SIGNED_PARTS,
  type CreatedUpload,
  type FileDescription,
  normalizeMimeType,
  planTransfer,
  type TransferPlan,
  UpkitError,
} from '@upkit/core'
import type { AnyBucketRoute, Authorized, Metadata } from '../routes/define-routes'
import type { JsonValue, NewUploadRow, UploadRow } from '../store/upload-store'
import { toUploadRecord } from './upload-access'
import type { UploadContext } from './upload-context'
import { presignParts } from './upload-helpers'

/*
 * The per-file steps of `create` and `createMany`, so both apply exactly the same rules: check the file against
 * the policy, plan it (and start its multipart upload), sign its first requests, answer, or undo it.
 */

/** The file checked against the route's policy, with its type normalized; throws the policy's refusal. */
export function checkFile(route: AnyBucketRoute, file: FileDescription): FileDescription {
  const mimeType = normalizeMimeType(file.mimeType)
  const checked = { fileName: file.fileName, size: file.size, mimeType }
  assertFileAllowed(route.policy, checked)
  return checked
}

export function tooManyFilesError(route: AnyBucketRoute): UpkitError {
  return new UpkitError(
    'TOO_MANY_FILES',
    `At most ${route.policy.maxFiles} ${route.policy.label} can upload at once; wait for some to finish.`,
  )
}

/** A new upload before its row is written: the row, its plan and its multipart upload (if any). */
export interface PreparedUpload {
  readonly row: NewUploadRow
  readonly transfer: TransferPlan
  readonly s3UploadId: string | null
}

/**
 * The row of a checked file, with a fresh id and key. A multipart plan gets its multipart upload here rather than
 * from the browser: it saves the browser a signing round trip and an S3 round trip, and the row names it from its
 * first moment, so a cancel or the sweeper always finds it to abort. It comes before the row so the row is written
 * once; should that write fail, `discardUpload` aborts it (and the sweeper aborts any multipart upload no PENDING
 * row names).
 */
export async function prepareUpload(
  c: UploadContext,
  call: { route: string; input: unknown },
  auth: Required<Authorized<Metadata>>,
  file: FileDescription,
): Promise<PreparedUpload> {
  const id = randomUUID()
  const key = buildObjectKey({
    prefix: c.keyPrefix,
    tenantId: auth.tenantId,
    route: call.route,
    uploadId: id,
  })
  const transfer = planTransfer(file.size)
  const s3UploadId =
    transfer.type === 'multipart'
      ? (await c.storage.createMultipartUpload({ key, contentType: file.mimeType })).uploadId
      : null
  return {
    transfer,
    s3UploadId,
    row: {
      id,
      route: call.route,
      tenantId: auth.tenantId,
      ownerId: auth.ownerId,
      uploadedBy: auth.uploadedBy,
      key,
      fileName: file.fileName,
      mimeType: file.mimeType,
      size: file.size,
      partSize: transfer.type === 'multipart' ? transfer.partSize : null,
      multipartUploadId: s3UploadId,
      input: call.input as JsonValue,
      metadata: auth.metadata as JsonValue,
      expiresAt: new Date(c.now().getTime() + c.pendingTtlMs),
    },
  }
}

type SignedFirst = Pick<CreatedUpload, 'signedPut' | 'signedParts'>

/** The first requests, signed with the answer so the browser's first byte needs no `sign` call. */
export async function signFirst(c: UploadContext, prepared: PreparedUpload): Promise<SignedFirst> {
  const { row, transfer } = prepared
  if (transfer.type === 'single') {
    const signed = await c.storage.presignPut({
      key: row.key,
      contentType: row.mimeType,
      contentLength: transfer.size,
      expiresInSeconds: c.signedUrlTtlSeconds,
    })
    return { signedPut: { ...signed, key: row.key }, signedParts: [] }
  }
  const first = Array.from({ length: Math.min(CREATE_SIGNED_PARTS, transfer.partCount) }, (_, i) => i + 1)
  return {
    signedPut: null,
    signedParts: await presignParts(c, row, transfer, prepared.s3UploadId as string, first),
  }
}

/** What `create` answers for a written row. */
export function createdUpload(
  c: UploadContext,
  written: UploadRow,
  prepared: PreparedUpload,
  signed: SignedFirst,
): CreatedUpload {
  return {
    upload: toUploadRecord(written, c.paths),
    key: written.key,
    transfer: prepared.transfer,
    expiresAt: prepared.row.expiresAt.toISOString(),
    s3UploadId: prepared.s3UploadId,
    ...signed,
  }
}

/** Undoes a prepared upload: its multipart upload and, when `withRow`, its row. Best effort: the sweeper backs it. */
export async function discardUpload(
  c: UploadContext,
  prepared: PreparedUpload,
  withRow: boolean,
): Promise<void> {
  if (prepared.s3UploadId !== null) {
    await c.storage
      .abortMultipartUpload({ key: prepared.row.key, uploadId: prepared.s3UploadId })
      .catch(() => {})
  }
  if (withRow) await c.store.deleteUnconfirmed(prepared.row.id).catch(() => {})
}
