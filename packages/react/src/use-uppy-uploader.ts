import type { FileKind, UploadApi, UploadRecord } from '@upkit/core'
import Uppy, { type Meta, type State } from '@uppy/core'
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react'
import {
  TASK_ID_META,
  type UpkitFilePhase,
  type UpkitUploadBody,
  UpkitUploader,
  type UpkitUploaderOptions,
  type UpkitUploaderState,
} from './upkit-uploader'

export type UpkitUppy = Uppy<Meta, UpkitUploadBody>

export interface UppyUploaderOptions {
  readonly api: UploadApi
  readonly taskId: string
  /** Passed to `UpkitUploader` when set; its own default otherwise. */
  readonly kind?: FileKind | undefined
  readonly partConcurrency?: number | undefined
  readonly retry?: UpkitUploaderOptions['retry'] | undefined
  /** Called once the server confirmed a file; `fileId` is undefined when the file left Uppy meanwhile. */
  readonly onUploaded?: (upload: UploadRecord, fileId: string | undefined) => void
  /** When set, a confirmed file is removed from Uppy (and so from the list) this long after success. */
  readonly removeDoneAfterMs?: number | undefined
}

/** One file as both hooks see it: Uppy's file joined with `UpkitUploader`'s phase for it. */
export interface UppyUploaderFile {
  readonly id: string
  readonly name: string
  readonly size: number
  /** Uppy's error for the file, or null. */
  readonly error: string | null
  /** `UpkitUploader`'s phase, or null before it has seen the file. */
  readonly phase: UpkitFilePhase | null
  readonly startedAt: number | null
  readonly uploadId: string | null
  /** Bytes the bucket already had when the current transfer resumed (not part of its speed). */
  readonly resumedBytes: number
  readonly bytesUploaded: number
  readonly percentage: number
}

export interface UppyUploader {
  /** Null until mounted (and after unmount). */
  readonly uppy: UpkitUppy | null
  readonly files: readonly UppyUploaderFile[]
  /**
   * Adds `file` (it starts uploading at once) and returns its Uppy id, or the reason Uppy refused it. Every call
   * adds a new file, even for the same file chosen twice, and records the current task in its meta.
   */
  add(file: File, source: string): { readonly id: string } | { readonly error: string }
  /** Removes the file; one in flight is cancelled. */
  remove(fileId: string): void
  retry(fileId: string): void
}

const noopSubscribe = () => () => {}
const nullSnapshot = () => null

/**
 * The part both upload hooks share: one Uppy instance with `UpkitUploader` (registered as `pluginId`) for the
 * component's lifetime, uploading as soon as files are added, its state read through `useSyncExternalStore`.
 * Unmounting cancels what is still in flight.
 */
export function useUppyUploader(pluginId: string, options: UppyUploaderOptions): UppyUploader {
  const latest = useRef(options)
  latest.current = options
  const [uppy, setUppy] = useState<UpkitUppy | null>(null)

  // One instance per mount: everything but the (constant) plugin id is read through `latest`.
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
    const instance: UpkitUppy = new Uppy<Meta, UpkitUploadBody>({ autoProceed: true })
    instance.use(UpkitUploader, {
      id: pluginId,
      api,
      taskId,
      ...(kind ? { kind } : {}),
      ...(partConcurrency ? { partConcurrency } : {}),
      ...(retry ? { retry } : {}),
    })
    const timers = new Set<ReturnType<typeof setTimeout>>()
    instance.on('upload-success', (file, response) => {
      const upload = response.body?.upload
      if (upload) latest.current.onUploaded?.(upload, file?.id)
      const lingerMs = latest.current.removeDoneAfterMs
      if (!file || lingerMs === undefined) return
      const timer = setTimeout(() => {
        timers.delete(timer)
        if (instance.getFile(file.id)) instance.removeFile(file.id)
      }, lingerMs)
      timers.add(timer)
    })
    setUppy(instance)
    return () => {
      for (const timer of timers) clearTimeout(timer)
      instance.destroy()
      setUppy(null)
    }
  }, [pluginId])

  useEffect(() => {
    uppy?.getPlugin<UpkitUploader>(pluginId)?.setOptions({ taskId: options.taskId })
  }, [uppy, pluginId, options.taskId])

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
  const files = useMemo(() => describeFiles(state, pluginId), [state, pluginId])

  const add = useCallback(
    (file: File, source: string): { id: string } | { error: string } => {
      if (!uppy) return { error: 'The uploader is not ready yet. Try again in a moment.' }
      try {
        const id = uppy.addFile({
          name: file.name,
          type: file.type,
          data: file,
          source,
          meta: {
            // Uppy derives ids from name, type, size and date and silently drops a "duplicate": choosing the same
            // file again after a failure, or pasting one screenshot twice, must still start an upload.
            relativePath: `${Date.now()}-${Math.random().toString(36).slice(2)}`,
            // The task this file belongs to, even if the host moves to another task while it waits or retries.
            [TASK_ID_META]: latest.current.taskId,
          },
        })
        return { id }
      } catch (error) {
        return { error: error instanceof Error ? error.message : String(error) }
      }
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
  return { uppy, files, add, remove, retry }
}

function describeFiles(state: State<Meta, UpkitUploadBody> | null, pluginId: string): UppyUploaderFile[] {
  if (!state) return []
  const phases = (state.plugins[pluginId] as Partial<UpkitUploaderState> | undefined)?.files ?? {}
  return Object.values(state.files).map((file) => {
    const phase = phases[file.id]
    return {
      id: file.id,
      name: file.name ?? file.meta.name,
      size: file.size ?? 0,
      error: file.error ?? null,
      phase: phase?.phase ?? null,
      startedAt: phase?.startedAt ?? null,
      uploadId: phase?.uploadId ?? null,
      resumedBytes: phase?.resumedBytes ?? 0,
      bytesUploaded: file.progress.bytesUploaded || 0,
      percentage: file.progress.percentage ?? 0,
    }
  })
}
