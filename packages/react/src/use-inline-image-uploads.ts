import { checkFileAllowed, type FileKind, type UploadApi, type UploadRecord } from '@upkit/core'
import Uppy, { type Meta, type State } from '@uppy/core'
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react'
import { UpkitUploader, type UpkitUploaderOptions, type UpkitUploaderState } from './upkit-uploader'

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
type InlineUppy = Uppy<Meta, { upload: UploadRecord }>

const noopSubscribe = () => () => {}
const nullSnapshot = () => null

/**
 * One upload per image, each addressable by the id `add` returns, so a caller can tie an upload to something it
 * placed in a text (a Markdown placeholder). Uses `UpkitUploader`, so images take the same signed,
 * confirmed path as attachments. Unmounting cancels what is still in flight.
 */
export function useInlineImageUploads(options: UseInlineImageUploadsOptions): InlineImageUploads {
  const latest = useRef(options)
  latest.current = options
  const [uppy, setUppy] = useState<InlineUppy | null>(null)

  useEffect(() => {
    const api: UploadApi = {
      create: (input) => latest.current.api.create(input),
      sign: (input) => latest.current.api.sign(input),
      signParts: (input) => latest.current.api.signParts(input),
      confirm: (input) => latest.current.api.confirm(input),
      cancel: (input) => latest.current.api.cancel(input),
    }
    const { taskId, retry } = latest.current
    const instance: InlineUppy = new Uppy<Meta, { upload: UploadRecord }>({ autoProceed: true })
    instance.use(UpkitUploader, {
      id: PLUGIN_ID,
      api,
      taskId,
      kind: latest.current.kind ?? 'comment-image',
      ...(retry ? { retry } : {}),
    })
    instance.on('upload-success', (file, response) => {
      const upload = response.body?.upload
      if (file && upload) latest.current.onConfirmed?.(file.id, upload)
    })
    setUppy(instance)
    return () => {
      instance.destroy()
      setUppy(null)
    }
  }, [])

  useEffect(() => {
    uppy?.getPlugin<UpkitUploader>(PLUGIN_ID)?.setOptions({ taskId: options.taskId })
  }, [uppy, options.taskId])

  const subscribe = useCallback(
    (onChange: () => void) => {
      if (!uppy) return () => {}
      uppy.on('state-update', onChange)
      return () => {
        uppy.off('state-update', onChange)
      }
    },
    [uppy],
  )
  const state = useSyncExternalStore(
    uppy ? subscribe : noopSubscribe,
    uppy ? () => uppy.getState() : nullSnapshot,
    nullSnapshot,
  )

  const add = useCallback(
    (file: File): { id: string } | { error: string } => {
      const kind = latest.current.kind ?? 'comment-image'
      // Refused before a placeholder is ever inserted: the same rule the server applies, with its message.
      const refusal = checkFileAllowed(kind, { fileName: file.name, size: file.size, mimeType: file.type })
      if (refusal) return { error: refusal.message }
      if (!uppy) return { error: 'The uploader is not ready yet. Try again in a moment.' }
      let id: string
      try {
        id = uppy.addFile({
          name: file.name,
          type: file.type,
          data: file,
          source: 'upkit-inline',
          // Uppy derives ids from name, type, size and date, so two pastes of the same screenshot would collide
          // ("duplicate file"); a unique path keeps every paste its own upload.
          meta: { relativePath: `${Date.now()}-${Math.random().toString(36).slice(2)}` },
        })
      } catch (error) {
        return { error: error instanceof Error ? error.message : String(error) }
      }
      return { id }
    },
    [uppy],
  )
  const remove = useCallback((fileId: string) => uppy?.removeFile(fileId), [uppy])
  const retry = useCallback(
    (fileId: string) => {
      void uppy?.retryUpload(fileId)
    },
    [uppy],
  )
  const files = useMemo(() => describe(state), [state])
  return { files, add, remove, retry }
}

function describe(state: State<Meta, { upload: UploadRecord }> | null): InlineImageUpload[] {
  if (!state) return []
  const phases = (state.plugins[PLUGIN_ID] as Partial<UpkitUploaderState> | undefined)?.files ?? {}
  return Object.values(state.files).map((file) => {
    const phase = phases[file.id]
    const status: InlineImageStatus = file.error ? 'error' : phase?.phase === 'done' ? 'done' : 'uploading'
    return {
      id: file.id,
      name: file.name ?? file.meta.name,
      percent: status === 'done' ? 100 : Math.floor(file.progress.percentage ?? 0),
      status,
      error: file.error ?? null,
      uploadId: phase?.uploadId ?? null,
    }
  })
}
