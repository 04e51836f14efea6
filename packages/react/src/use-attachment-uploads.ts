import type { FileKind, UploadApi, UploadRecord } from '@upkit/core'
import { useCallback, useMemo, useState } from 'react'
import { summarizeProgress } from './progress'
import type { UpkitFilePhase, UpkitUploaderOptions } from './upkit-uploader'
import { type UppyUploaderFile, useUppyUploader } from './use-uppy-uploader'

export interface UseAttachmentUploadsOptions {
  readonly api: UploadApi
  readonly taskId: string
  /** Called after the server confirmed each file; hosts refresh their attachment list here. */
  readonly onUploaded?: (upload: UploadRecord) => void
  /** Default `'attachment'`. */
  readonly kind?: FileKind
  /** See `UpkitUploaderOptions.partConcurrency` (default 6). */
  readonly partConcurrency?: number
  /** See `UpkitUploaderOptions.retry`. */
  readonly retry?: UpkitUploaderOptions['retry']
  /**
   * How long a finished file stays in the upload list. Default 1500 ms: long enough to see it finish, short
   * enough that the attachment list, not the upload list, is where the file lives.
   */
  readonly doneLingerMs?: number
}

export type AttachmentUploadStatus = UpkitFilePhase

export interface AttachmentUpload {
  readonly id: string
  readonly name: string
  readonly size: number
  readonly percent: number
  readonly bytesUploaded: number
  readonly bytesPerSecond: number | null
  readonly secondsLeft: number | null
  /** "12 MiB/s · 8 s left", or '' when unknown. */
  readonly progressLabel: string
  readonly status: AttachmentUploadStatus
  readonly error: string | null
}

export interface AttachmentUploads {
  readonly files: readonly AttachmentUpload[]
  readonly total: {
    readonly percent: number
    readonly bytesUploaded: number
    readonly size: number
  }
  /** Why the files last added were not all accepted (shown as an alert), or null. */
  readonly notice: string | null
  addFiles(files: Iterable<File> | ArrayLike<File>): void
  cancel(fileId: string): void
  retry(fileId: string): void
}

const PLUGIN_ID = 'UpkitUploader'

/**
 * Owns one Uppy instance (with `UpkitUploader`) for the component's lifetime; files start uploading as soon as
 * they are added. Unmounting cancels what is still in flight.
 */
export function useAttachmentUploads(options: UseAttachmentUploadsOptions): AttachmentUploads {
  const uploader = useUppyUploader(PLUGIN_ID, {
    api: options.api,
    taskId: options.taskId,
    kind: options.kind,
    partConcurrency: options.partConcurrency,
    retry: options.retry,
    onUploaded: (upload) => options.onUploaded?.(upload),
    removeDoneAfterMs: options.doneLingerMs ?? 1500,
  })
  const addToUploader = uploader.add
  const view = useMemo(() => describe(uploader.files), [uploader.files])
  const [notice, setNotice] = useState<string | null>(null)

  const addFiles = useCallback(
    (files: Iterable<File> | ArrayLike<File>) => {
      const list = Array.from(files)
      if (list.length === 0) return
      const refusals: string[] = []
      for (const file of list) {
        const added = addToUploader(file, 'upkit')
        if ('error' in added) refusals.push(added.error)
      }
      setNotice(refusals.length > 0 ? refusals.join(' ') : null)
    },
    [addToUploader],
  )
  return { ...view, notice, addFiles, cancel: uploader.remove, retry: uploader.retry }
}

function describe(uploaderFiles: readonly UppyUploaderFile[]): Pick<AttachmentUploads, 'files' | 'total'> {
  const now = Date.now()
  const files: AttachmentUpload[] = uploaderFiles.map((file) => {
    const status: UpkitFilePhase = file.error ? 'error' : (file.phase ?? 'queued')
    const bytesUploaded = status === 'done' ? file.size : file.bytesUploaded
    const summary = summarizeProgress({
      loaded: bytesUploaded,
      total: file.size,
      startedAt: file.startedAt ?? now,
      now,
      resumedBytes: file.resumedBytes,
    })
    const showRate = status === 'uploading' || status === 'retrying'
    return {
      id: file.id,
      name: file.name,
      size: file.size,
      percent: status === 'done' ? 100 : summary.percent,
      bytesUploaded,
      bytesPerSecond: showRate ? summary.bytesPerSecond : null,
      secondsLeft: showRate ? summary.secondsLeft : null,
      progressLabel: showRate ? summary.label : '',
      status,
      error: file.error,
    }
  })
  const counted = files.filter((f) => f.status !== 'error')
  const size = counted.reduce((sum, f) => sum + f.size, 0)
  const bytesUploaded = counted.reduce((sum, f) => sum + f.bytesUploaded, 0)
  return {
    files,
    total: {
      percent: size > 0 ? Math.min(100, Math.floor((bytesUploaded / size) * 100)) : 0,
      bytesUploaded,
      size,
    },
  }
}
