import type { FileKind, UploadRecord } from '@upkit/core'
import { type Prisma, UploadKind, UploadStatus } from '@upkit/db'

/** What the browser may see of an upload: never another tenant's key, never internal state. */
export const uploadRecordSelect = {
  id: true,
  taskId: true,
  kind: true,
  status: true,
  fileName: true,
  mimeType: true,
  size: true,
  createdAt: true,
  confirmedAt: true,
} satisfies Prisma.UploadSelect

/** What the server needs to sign and check an upload. */
export const uploadInternalSelect = {
  ...uploadRecordSelect,
  key: true,
  partSize: true,
  multipartUploadId: true,
  expiresAt: true,
  failureReason: true,
} satisfies Prisma.UploadSelect

type SelectedUpload = Prisma.UploadGetPayload<{ select: typeof uploadRecordSelect }>
export type InternalUpload = Prisma.UploadGetPayload<{ select: typeof uploadInternalSelect }>

const KIND_TO_DB: Record<FileKind, UploadKind> = {
  attachment: UploadKind.ATTACHMENT,
  'comment-image': UploadKind.COMMENT_IMAGE,
}
const KIND_FROM_DB: Record<UploadKind, FileKind> = {
  [UploadKind.ATTACHMENT]: 'attachment',
  [UploadKind.COMMENT_IMAGE]: 'comment-image',
}
const STATUS_FROM_DB: Record<UploadStatus, UploadRecord['status']> = {
  [UploadStatus.PENDING]: 'pending',
  [UploadStatus.CONFIRMED]: 'confirmed',
  [UploadStatus.FAILED]: 'failed',
}

export function toDbKind(kind: FileKind): UploadKind {
  return KIND_TO_DB[kind]
}

/** Prisma returns `size` as BigInt, which JSON cannot carry; every response goes through here. */
export function toUploadRecord(row: SelectedUpload): UploadRecord {
  return {
    id: row.id,
    taskId: row.taskId,
    kind: KIND_FROM_DB[row.kind],
    status: STATUS_FROM_DB[row.status],
    fileName: row.fileName,
    mimeType: row.mimeType,
    size: Number(row.size),
    createdAt: row.createdAt.toISOString(),
    confirmedAt: row.confirmedAt?.toISOString() ?? null,
  }
}
