import { checkFileAllowed, type FileKind, type UploadApi, type UploadRecord } from '@upkit/core'
import { useCallback, useMemo } from 'react'
import type { UpkitUploaderOptions } from './upkit-uploader'
import { type UppyUploaderFile, useUppyUploader } from './use-uppy-uploader'

export interface UseInlineImageUploadsOptions {
  readonly api: UploadApi
  readonly taskId: string
  /** Default `'comment-image'`: images only, at most 10 MiB (`FILE_POLICIES`). */
  readonly kind?: FileKind
  /** Called once per file when the server has confirmed it; `fileId` is what `add` returned. */
  readonly onConfirmed?: (fileId: string, upload: UploadRecord) => void
  /** See `UpkitUploaderOptions.retry`. */
  readonly retry?: UpkitUploaderOptions['retry']
}

export type InlineImageStatus = 'uploading' | 'done' | 'error'

export interface InlineImageUpload {
  readonly id: string
  readonly name: string
  readonly percent: number
  readonly status: InlineImageStatus
  readonly error: string | null
  readonly uploadId: string | null
}

export interface InlineImageUploads {
  readonly files: readonly InlineImageUpload[]
  /** Starts uploading `file`; the policy's refusal message instead when it may not be uploaded at all. */
  add(file: File): { readonly id: string } | { readonly error: string }
  remove(fileId: string): void
  retry(fileId: string): void
}

const PLUGIN_ID = 'UpkitInlineImages'

/**
 * One upload per image, each addressable by the id `add` returns, so a caller can tie an upload to something it
 * placed in a text (a Markdown placeholder). Uses `UpkitUploader`, so images take the same signed,
 * confirmed path as attachments. Unmounting cancels what is still in flight.
 */
export function useInlineImageUploads(options: UseInlineImageUploadsOptions): InlineImageUploads {
  const kind = options.kind ?? 'comment-image'
  const uploader = useUppyUploader(PLUGIN_ID, {
    api: options.api,
    taskId: options.taskId,
    kind,
    retry: options.retry,
    onUploaded: (upload, fileId) => {
      if (fileId) options.onConfirmed?.(fileId, upload)
    },
  })
  const addToUploader = uploader.add

  const add = useCallback(
    (file: File): { id: string } | { error: string } => {
      // Refused before a placeholder is ever inserted: the same rule the server applies, with its message.
      const refusal = checkFileAllowed(kind, { fileName: file.name, size: file.size, mimeType: file.type })
      if (refusal) return { error: refusal.message }
      return addToUploader(file, 'upkit-inline')
    },
    [addToUploader, kind],
  )
  const files = useMemo(() => describe(uploader.files), [uploader.files])
  return { files, add, remove: uploader.remove, retry: uploader.retry }
}

function describe(uploaderFiles: readonly UppyUploaderFile[]): InlineImageUpload[] {
  return uploaderFiles.map((file) => {
    const status: InlineImageStatus = file.error ? 'error' : file.phase === 'done' ? 'done' : 'uploading'
    return {
      id: file.id,
      name: file.name,
      percent: status === 'done' ? 100 : Math.floor(file.percentage),
      status,
      error: file.error,
      uploadId: file.uploadId,
    }
  })
}
