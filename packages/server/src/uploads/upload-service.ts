import type { SignRequestInput } from '@upkit/core'
import type { UploadRow } from '../store/upload-store'
import { cancelUpload, deleteUpload } from './cancel-or-delete'
import { type ConfirmManyCall, confirmManyUploads } from './confirm-many'
import { confirmComplete, confirmUpload } from './confirm-upload'
import { type CreateManyCall, createManyUploads } from './create-many'
import { type CreateCall, createUpload } from './create-upload'
import { downloadUrl, listUploads, readThumbnail } from './list-and-download'
import { resumeUpload } from './resume-upload'
import { signParts, signRequest } from './sign-upload'
import { resolveUploadContext, type UploadServiceDeps, type UploadServiceOptions } from './upload-context'

export type { ConfirmManyCall } from './confirm-many'
export type { CreateManyCall } from './create-many'
export type { CreateCall } from './create-upload'
export type { UploadServiceDeps, UploadServiceOptions } from './upload-context'

/**
 * The bucket routes' procedures, one module per handler; this only binds them to one resolved context, so the
 * procedures and the HTTP routes share the same defaults.
 */
export function createUploadService(deps: UploadServiceDeps, options: UploadServiceOptions = {}) {
  const c = resolveUploadContext(deps, options)
  return {
    confirmComplete: (row: UploadRow) => confirmComplete(c, row),
    create: (ctx: unknown, call: CreateCall) => createUpload(c, ctx, call),
    createMany: (ctx: unknown, call: CreateManyCall) => createManyUploads(c, ctx, call),
    resume: (ctx: unknown, uploadId: string) => resumeUpload(c, ctx, uploadId),
    sign: (ctx: unknown, uploadId: string, request: SignRequestInput) =>
      signRequest(c, ctx, uploadId, request),
    signParts: (ctx: unknown, uploadId: string, s3UploadId: string, partNumbers: readonly number[]) =>
      signParts(c, ctx, uploadId, s3UploadId, partNumbers),
    confirm: (ctx: unknown, uploadId: string, thumbnail?: string) =>
      confirmUpload(c, ctx, uploadId, thumbnail),
    confirmMany: (ctx: unknown, call: ConfirmManyCall) => confirmManyUploads(c, ctx, call),
    cancel: (ctx: unknown, uploadId: string) => cancelUpload(c, ctx, uploadId),
    list: (ctx: unknown, call: { route: string; input: unknown }) => listUploads(c, ctx, call),
    downloadUrl: (ctx: unknown, uploadId: string, mode?: 'attachment' | 'view') =>
      downloadUrl(c, ctx, uploadId, mode),
    readThumbnail: (ctx: unknown, uploadId: string) => readThumbnail(c, ctx, uploadId),
    remove: (ctx: unknown, uploadId: string) => deleteUpload(c, ctx, uploadId),
  }
}

export type UploadService = ReturnType<typeof createUploadService>
