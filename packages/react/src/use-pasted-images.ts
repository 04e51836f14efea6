import type { RouteCall, UploadApi, UploadRecord } from '@upkit/core'
import { useMemo } from 'react'
import type { UpkitUploaderOptions } from './upkit-uploader'
import { type UpkitUppyFile, useUpkitUppy } from './use-upkit-uppy'

export interface UsePastedImagesOptions {
  readonly api: UploadApi<RouteCall>
  /** The bucket route (and input) pasted images go to. */
  readonly call: RouteCall
  /** Called once per file when the server has confirmed it; `fileId` is what `add` returned. */
  readonly onConfirmed?: (fileId: string, upload: UploadRecord) => void
  readonly retry?: UpkitUploaderOptions['retry']
}

export type PastedImageStatus = 'uploading' | 'done' | 'error'

export interface PastedImage {
  readonly id: string
  readonly name: string
  readonly percent: number
  readonly status: PastedImageStatus
  readonly error: string | null
  readonly retryable: boolean
}

export interface PastedImages {
  readonly files: readonly PastedImage[]
  /** Starts uploading `file`, or says why the route's policy refuses it (then nothing was added). */
  add(file: File): { readonly id: string } | { readonly error: string }
  remove(fileId: string): void
  retry(fileId: string): void
}

const PLUGIN_ID = 'UpkitPastedImages'

/**
 * One upload per image, each addressable by the id `add` returns, so the comment editor can tie an upload to
 * the placeholder it put in the text. Images take the same signed, confirmed path as any bucket upload.
 */
export function usePastedImages(options: UsePastedImagesOptions): PastedImages {
  const { onConfirmed } = options
  const uploader = useUpkitUppy(PLUGIN_ID, {
    api: options.api,
    call: options.call,
    retry: options.retry,
    // A pasted image lives in the editor's draft, which a reload loses: nothing to resume it into.
    rememberUnfinished: false,
    onUploaded: (upload, fileId) => {
      if (fileId) onConfirmed?.(fileId, upload)
    },
  })
  const { add } = uploader
  const files = useMemo(() => describe(uploader.files), [uploader.files])
  return {
    files,
    add: (file: File) => add(file, 'upkit-paste'),
    remove: uploader.remove,
    retry: uploader.retry,
  }
}

function describe(uploaderFiles: readonly UpkitUppyFile[]): PastedImage[] {
  return uploaderFiles.map((file) => {
    const status: PastedImageStatus = file.error
      ? 'error'
      : file.state?.phase === 'done'
        ? 'done'
        : 'uploading'
    return {
      id: file.id,
      name: file.name,
      percent: status === 'done' ? 100 : Math.floor(file.percentage),
      status,
      error: file.error,
      retryable: file.state?.retryable ?? true,
    }
  })
}
