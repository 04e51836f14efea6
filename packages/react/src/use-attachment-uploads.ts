import type { FileKind, UploadApi, UploadRecord } from '@upkit/core'
import Uppy, { type Meta, type State } from '@uppy/core'
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react'
import { summarizeProgress } from './progress'
import {
  type UpkitFilePhase,
  type UpkitUploadBody,
  UpkitUploader,
  type UpkitUploaderOptions,
  type UpkitUploaderState,
} from './upkit-uploader'

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
    readonly active: boolean
  }
  addFiles(files: Iterable<File> | ArrayLike<File>): void
  cancel(fileId: string): void
  retry(fileId: string): void
}

const PLUGIN_ID = 'UpkitUploader'
type AttachmentUppy = Uppy<Meta, UpkitUploadBody>

const noopSubscribe = () => () => {}
const nullSnapshot = () => null

/**
 * Owns one Uppy instance (with `UpkitUploader`) for the component's lifetime; files start uploading as soon as
 * they are added. Unmounting cancels what is still in flight.
 */
export function useAttachmentUploads(options: UseAttachmentUploadsOptions): AttachmentUploads {
  const latest = useRef(options)
  latest.current = options
  const [uppy, setUppy] = useState<AttachmentUppy | null>(null)

  useEffect(() => {
    // The API is read through a ref, so a host that re-creates its adapter object every render does not
    // re-create the uploader (and lose its uploads).
    const api: UploadApi = {
      create: (input) => latest.current.api.create(input),
      sign: (input) => latest.current.api.sign(input),
      signParts: (input) => latest.current.api.signParts(input),
      confirm: (input) => latest.current.api.confirm(input),
      cancel: (input) => latest.current.api.cancel(input),
    }
    const { taskId, kind, partConcurrency, retry } = latest.current
    const instance: AttachmentUppy = new Uppy<Meta, UpkitUploadBody>({ autoProceed: true })
    instance.use(UpkitUploader, {
      id: PLUGIN_ID,
      api,
      taskId,
      ...(kind ? { kind } : {}),
      ...(partConcurrency ? { partConcurrency } : {}),
      ...(retry ? { retry } : {}),
    })
    const timers = new Set<ReturnType<typeof setTimeout>>()
    instance.on('upload-success', (file, response) => {
      const upload = response.body?.upload
      if (upload) latest.current.onUploaded?.(upload)
      if (!file) return
      const timer = setTimeout(() => {
        timers.delete(timer)
        if (instance.getFile(file.id)) instance.removeFile(file.id)
      }, latest.current.doneLingerMs ?? 1500)
      timers.add(timer)
    })
    setUppy(instance)
    return () => {
      for (const timer of timers) clearTimeout(timer)
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

  const view = useMemo(() => describe(state), [state])

  const addFiles = useCallback(
    (files: Iterable<File> | ArrayLike<File>) => {
      if (!uppy) return
      const list = Array.from(files)
      if (list.length === 0) return
      uppy.addFiles(list.map((file) => ({ name: file.name, type: file.type, data: file, source: 'upkit' })))
    },
    [uppy],
  )
  const cancel = useCallback((fileId: string) => uppy?.removeFile(fileId), [uppy])
  const retry = useCallback(
    (fileId: string) => {
      void uppy?.retryUpload(fileId)
    },
    [uppy],
  )
  return { ...view, addFiles, cancel, retry }
}

function describe(state: State<Meta, UpkitUploadBody> | null): Pick<AttachmentUploads, 'files' | 'total'> {
  if (!state) return { files: [], total: { percent: 0, bytesUploaded: 0, size: 0, active: false } }
  const pluginState = state.plugins[PLUGIN_ID] as Partial<UpkitUploaderState> | undefined
  const phases = pluginState?.files ?? {}
  const now = Date.now()
  const files: AttachmentUpload[] = Object.values(state.files).map((file) => {
    const size = file.size ?? 0
    const phase = phases[file.id]
    const status: UpkitFilePhase = file.error ? 'error' : (phase?.phase ?? 'queued')
    const bytesUploaded = status === 'done' ? size : file.progress.bytesUploaded || 0
    const summary = summarizeProgress({
      loaded: bytesUploaded,
      total: size,
      startedAt: phase?.startedAt ?? now,
      now,
    })
    const showRate = status === 'uploading' || status === 'retrying'
    return {
      id: file.id,
      name: file.name ?? file.meta.name,
      size,
      percent: status === 'done' ? 100 : summary.percent,
      bytesUploaded,
      bytesPerSecond: showRate ? summary.bytesPerSecond : null,
      secondsLeft: showRate ? summary.secondsLeft : null,
      progressLabel: showRate ? summary.label : '',
      status,
      error: file.error ?? null,
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
      active: counted.some((f) => f.status !== 'done'),
    },
  }
}
