import { UpkitError } from './errors'
import { formatBytes, GiB, MiB } from './sizes'

/** The kinds of file upkit accepts. Each has one policy, applied by the browser first and by the server always. */
export const FILE_KINDS = ['attachment', 'comment-image'] as const
export type FileKind = (typeof FILE_KINDS)[number]

export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'] as const

export interface FilePolicy {
  readonly kind: FileKind
  /** Largest accepted file, in bytes. */
  readonly maxBytes: number
  /** Accepted MIME types, exact matches. Bytes are checked against the type at confirm time. */
  readonly allowedTypes: readonly string[]
  /** Words used in messages: "Comment images must be ...". */
  readonly label: string
}

export const FILE_POLICIES: Readonly<Record<FileKind, FilePolicy>> = {
  attachment: {
    kind: 'attachment',
    // A single S3 PUT is capped at 5 GiB; multipart lifts that, but task attachments larger than this are
    // better served by a dedicated file store, and the cap bounds what one user can park in a tenant's bucket.
    maxBytes: 5 * GiB,
    allowedTypes: [
      ...IMAGE_TYPES,
      'application/pdf',
      'application/zip',
      'text/plain',
      'text/csv',
      'video/mp4',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'application/vnd.openxmlformats-officedocument.presentationml.presentation',
      // Unknown types are accepted as opaque bytes: they are only ever served as downloads
      // (Content-Disposition: attachment, nosniff), never rendered by the app.
      'application/octet-stream',
    ],
    label: 'Attachments',
  },
  'comment-image': {
    kind: 'comment-image',
    maxBytes: 10 * MiB,
    allowedTypes: IMAGE_TYPES,
    label: 'Comment images',
  },
}

export function getFilePolicy(kind: FileKind): FilePolicy {
  return FILE_POLICIES[kind]
}

/**
 * The MIME type upkit records for a file: browsers report `''` for unknown extensions, which we treat as
 * opaque bytes rather than refusing the file.
 */
export function normalizeMimeType(mimeType: string): string {
  const base = mimeType.split(';')[0]?.trim().toLowerCase() ?? ''
  return base === '' ? 'application/octet-stream' : base
}

export interface FileDescription {
  readonly fileName: string
  readonly size: number
  readonly mimeType: string
}

/**
 * Checks a file against its kind's policy; throws an `UpkitError` with a message for the uploader.
 * The browser calls it before starting so people learn at once; the server calls it again without trusting the
 * browser.
 */
export function assertFileAllowed(kind: FileKind, file: FileDescription): void {
  const policy = FILE_POLICIES[kind]
  if (!Number.isSafeInteger(file.size) || file.size < 0) {
    throw new UpkitError('INVALID_INPUT', `"${file.fileName}" has an invalid size.`)
  }
  if (file.size === 0) {
    throw new UpkitError('FILE_EMPTY', `"${file.fileName}" is empty.`)
  }
  if (file.size > policy.maxBytes) {
    throw new UpkitError(
      'FILE_TOO_LARGE',
      `"${file.fileName}" is ${formatBytes(file.size)}; ${policy.label.toLowerCase()} can be at most ${formatBytes(policy.maxBytes)}.`,
    )
  }
  const type = normalizeMimeType(file.mimeType)
  if (!policy.allowedTypes.includes(type)) {
    throw new UpkitError(
      'FILE_TYPE_NOT_ALLOWED',
      `"${file.fileName}" is ${type}; ${policy.label.toLowerCase()} must be one of: ${policy.allowedTypes.join(', ')}.`,
    )
  }
}

/** Like `assertFileAllowed`, as a value: `null` when allowed, else the error. */
export function checkFileAllowed(kind: FileKind, file: FileDescription): UpkitError | null {
  try {
    assertFileAllowed(kind, file)
    return null
  } catch (error) {
    if (error instanceof UpkitError) return error
    throw error
  }
}
