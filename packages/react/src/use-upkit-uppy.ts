import type { PublicRoutePolicy, RouteCall, UploadApi, UploadRecord } from '@upkit/core'
import Uppy, { type Meta, RestrictionError, type State, type UppyFile } from '@uppy/core'
import { useUppyEvent } from '@uppy/react'
import { useCallback, useEffect, useId, useMemo, useRef, useState } from 'react'
import { admitFile } from './admission'
import { UpkitImageCompressor } from './image-compressor'
import { type PolicyState, useRoutePolicy } from './route-policies'
import {
  UPKIT_CALL_META,
  type UpkitFileState,
  type UpkitUploadBody,
  UpkitUploader,
  type UpkitUploaderOptions,
  type UpkitUploaderState,
} from './upkit-uploader'
import { type UnfinishedUploads, useUnfinishedUploads } from './use-unfinished-uploads'
import { useUppyFrameState } from './use-uppy-frame-state'

export type UpkitUppy = Uppy<Meta, UpkitUploadBody>
type BucketPolicy = Extract<PublicRoutePolicy, { type: 'bucket' }>

export interface UpkitUppyOptions {
  readonly api: UploadApi<RouteCall>
  /** The route and input files added now go to; each file keeps the one it was added with. */
  readonly call: RouteCall
  /** The route's policy; fetched with `api.policies()` when left out. */
  readonly policy?: Omit<BucketPolicy, 'type'> | undefined
  readonly partConcurrency?: number | undefined
  readonly retry?: UpkitUploaderOptions['retry'] | undefined
  /** Called once the server confirmed a file; `fileId` is undefined when the file left Uppy meanwhile. */
  readonly onUploaded?: ((upload: UploadRecord, fileId: string | undefined) => void) | undefined
  /** When set, a confirmed file is removed from Uppy (and so from the list) this long after success. */
  readonly removeDoneAfterMs?: number | undefined
  /**
   * Remember unfinished uploads (IndexedDB) so a reload or a remount can resume them: true. False for uploads
   * that make no sense without the page that started them (a pasted image's placeholder in a draft): unmounting
   * then cancels them, and nothing of them stays in the browser.
   */
  readonly rememberUnfinished?: boolean | undefined
}

/** One file as the hooks see it: Uppy's file joined with `UpkitUploader`'s state for it. */
export interface UpkitUppyFile {
  readonly id: string
  readonly name: string
  readonly size: number
  /** The file's MIME type as the browser reported it ('' when unknown). */
  readonly type: string
  /** The bytes being sent (for a local preview); `null` for a remote file. */
  readonly data: Blob | null
  /** Paused by `pause`/`pauseAll`: its parts stay in the bucket until `resume`. */
  readonly paused: boolean
  /** Uppy's error for the file, or null. */
  readonly error: string | null
  /** The uploader's state, or null before it has seen the file. */
  readonly state: UpkitFileState | null
  readonly bytesUploaded: number
  readonly percentage: number
}

export interface UpkitUppyHandle extends UnfinishedUploads {
  /** The Uppy instance, for `UppyContextProvider` and `@uppy/react`'s hooks; files added to it are checked too. */
  readonly uppy: UpkitUppy
  readonly policy: PolicyState<BucketPolicy>
  readonly files: readonly UpkitUppyFile[]
  /** Files added before the policy arrived, added (or refused) as soon as it does. */
  readonly queued: number
  /** Why the files last added were not all accepted, or null. */
  readonly notice: string | null
  /** Adds one file now; returns its id or why it was refused (never queued). */
  add(file: File, source: string): { readonly id: string } | { readonly error: string }
  /** Removes the file; one in flight is cancelled. */
  remove(fileId: string): void
  retry(fileId: string): void
  /** Stops sending the file, keeping what reached the bucket (at most one part is sent twice). */
  pause(fileId: string): void
  /** Carries a paused file on from the parts the bucket has. */
  resume(fileId: string): void
  pauseAll(): void
  resumeAll(): void
}

interface QueuedFile {
  readonly data: File | Blob
  readonly name: string
  readonly type: string
  readonly source: string
  readonly call: RouteCall
}

/**
 * The Uppy instance behind `useUploads` and the comment editor: `UpkitUploader` installed, uploads starting as
 * soon as files are added, and the route's policy enforced when a file is added (`onBeforeFileAdded`), so a
 * refused file never enters the list (and never shows a Retry that cannot succeed). Files added before the
 * policy has arrived (it is fetched once per api object, usually long before anyone picks a file) wait in a
 * queue and are checked when it does. The instance lives as long as the component; unmounting cancels what is
 * still in flight.
 */
/** The rules a file added before the route's policy arrived is admitted under: any size and type, one at a time. */
const UNCHECKED: PolicyState<Extract<PublicRoutePolicy, { type: 'bucket' }>> = {
  status: 'ready',
  policy: {
    type: 'bucket',
    maxBytes: Number.MAX_SAFE_INTEGER,
    types: ['*/*'],
    maxFiles: Number.MAX_SAFE_INTEGER,
    contentCheck: true,
    label: 'files',
  },
}

export function useUpkitUppy(pluginId: string, options: UpkitUppyOptions): UpkitUppyHandle {
  const latest = useRef(options)
  latest.current = options
  const { state: policy } = useRoutePolicy(options.api, options.call.route, 'bucket', options.policy)
  const admitUnchecked = useRef(false)
  const policyRef = useRef(policy)
  policyRef.current = policy
  const queue = useRef<QueuedFile[]>([])
  const [queued, setQueued] = useState(0)
  const instanceId = useId()

  const [uppy] = useState(() => {
    const instance: UpkitUppy = new Uppy<Meta, UpkitUploadBody>({
      id: `upkit${instanceId}`,
      autoProceed: true,
      onBeforeFileAdded: (file, files) => admit(file, files),
    })
    // Read through `latest`: a host that re-creates its api object every render keeps its uploads.
    const api = new Proxy({} as UploadApi<RouteCall>, {
      get: (_, name) => Reflect.get(latest.current.api, name),
    })
    const { partConcurrency, retry, rememberUnfinished } = latest.current
    instance.use(UpkitUploader, {
      id: pluginId,
      api,
      ...(rememberUnfinished === false ? { journal: false } : {}),
      ...(partConcurrency ? { partConcurrency } : {}),
      ...(retry ? { retry } : {}),
    })
    instance.use(UpkitImageCompressor, { api: () => latest.current.api, policy: () => latest.current.policy })
    return instance
  })

  /** Uppy's `onBeforeFileAdded`: `admitFile` decides; a refusal is a user-facing restriction error. */
  function admit(
    file: UppyFile<Meta, UpkitUploadBody>,
    files: Record<string, UppyFile<Meta, UpkitUploadBody>>,
  ): UppyFile<Meta, UpkitUploadBody> | false {
    const current = policyRef.current
    // A file added on purpose while the rules load (a pasted image whose placeholder needs its id now) goes
    // through unchecked: the server checks every file again on create and answers with a final, typed refusal.
    const admission = admitFile(
      current.status === 'loading' && admitUnchecked.current ? UNCHECKED : current,
      file,
      files,
      latest.current.call,
    )
    if (admission.action === 'accept') return admission.file
    if (admission.action === 'refuse') throw new RestrictionError(admission.message, { file })
    queue.current.push({
      data: file.data as Blob,
      name: file.name ?? 'file',
      type: file.type,
      source: file.source ?? '',
      call: admission.call,
    })
    setQueued(queue.current.length)
    // Uppy reports this as a restriction that is not user-facing; the hook does not show it as a refusal.
    return false
  }

  // Files that arrived before the policy are admitted (or refused) once it is known.
  useEffect(() => {
    if (policy.status === 'loading' || queue.current.length === 0) return
    const waiting = queue.current
    queue.current = []
    setQueued(0)
    uppy.addFiles(
      waiting.map((file) => ({
        name: file.name,
        type: file.type,
        data: file.data,
        source: file.source,
        meta: { [UPKIT_CALL_META]: file.call },
      })),
    )
  }, [policy, uppy])

  // Refusals of one batch (one `addFiles`) become one notice; a batch with none clears it.
  const [notice, setNotice] = useState<string | null>(null)
  const refusals = useRef<string[] | null>(null)
  const flushSoon = useCallback(() => {
    if (refusals.current !== null) return
    refusals.current = []
    queueMicrotask(() => {
      const messages = refusals.current ?? []
      refusals.current = null
      setNotice(messages.length > 0 ? messages.join(' ') : null)
    })
  }, [])
  useUppyEvent(
    uppy,
    'restriction-failed',
    useCallback(
      (_file: unknown, error: Error & { isUserFacing?: boolean }) => {
        // Files waiting for the policy are "refused" silently by Uppy; they are not refused for the person.
        if (error.isUserFacing === false) return
        flushSoon()
        refusals.current?.push(error.message)
      },
      [flushSoon],
    ),
  )
  useUppyEvent(uppy, 'files-added', flushSoon)

  const timers = useRef(new Set<ReturnType<typeof setTimeout>>())
  useUppyEvent(
    uppy,
    'upload-success',
    useCallback(
      (file: UppyFile<Meta, UpkitUploadBody> | undefined, response: { body?: UpkitUploadBody }) => {
        const upload = response.body?.upload
        if (upload) latest.current.onUploaded?.(upload, file?.id)
        const lingerMs = latest.current.removeDoneAfterMs
        if (!file || lingerMs === undefined) return
        const timer = setTimeout(() => {
          timers.current.delete(timer)
          if (uppy.getFile(file.id)) uppy.removeFile(file.id)
        }, lingerMs)
        timers.current.add(timer)
      },
      [uppy],
    ),
  )

  // Destroyed a tick after unmount, not in the cleanup itself: StrictMode unmounts and remounts at once, and the
  // remount cancels the pending destroy, so the same instance (and its uploads) lives on.
  const destroyTimer = useRef<ReturnType<typeof setTimeout> | null>(null)
  useEffect(() => {
    if (destroyTimer.current !== null) clearTimeout(destroyTimer.current)
    destroyTimer.current = null
    const pending = timers.current
    return () => {
      destroyTimer.current = setTimeout(() => {
        for (const timer of pending) clearTimeout(timer)
        // The uploader goes first: `destroy` removes every file, which would cancel their uploads on the server;
        // uninstalled, the uploader only stops them, and the journal lets the next mount (or page) resume them.
        const plugin = uppy.getPlugin(pluginId)
        if (plugin) uppy.removePlugin(plugin)
        uppy.destroy()
      }, 0)
    }
  }, [uppy, pluginId])

  const uppyFiles = useUppyFrameState(uppy, selectFiles)
  const selectPluginState = useCallback(
    (state: State<Meta, UpkitUploadBody>) =>
      state.plugins[pluginId] as Partial<UpkitUploaderState> | undefined,
    [pluginId],
  )
  const pluginState = useUppyFrameState(uppy, selectPluginState)
  const files = useMemo(() => describeFiles(uppyFiles, pluginState?.files ?? {}), [uppyFiles, pluginState])
  const activeUploadIds = useMemo(
    () => new Set(files.flatMap((file) => (file.state?.uploadId ? [file.state.uploadId] : []))),
    [files],
  )
  const unfinished = useUnfinishedUploads(uppy, pluginId, options.api, options.call, activeUploadIds)

  const add = useCallback(
    (file: File, source: string): { id: string } | { error: string } => {
      admitUnchecked.current = true
      try {
        return { id: uppy.addFile({ name: file.name, type: file.type, data: file, source }) }
      } catch (error) {
        return { error: error instanceof Error ? error.message : String(error) }
      } finally {
        admitUnchecked.current = false
      }
    },
    [uppy],
  )
  const remove = useCallback((fileId: string) => uppy.removeFile(fileId), [uppy])
  const retry = useCallback(
    (fileId: string) => {
      void uppy.retryUpload(fileId)
    },
    [uppy],
  )
  const pause = useCallback(
    (fileId: string) => {
      if (!uppy.getFile(fileId)?.isPaused) uppy.pauseResume(fileId)
    },
    [uppy],
  )
  const resume = useCallback(
    (fileId: string) => {
      if (uppy.getFile(fileId)?.isPaused) uppy.pauseResume(fileId)
    },
    [uppy],
  )
  const pauseAll = useCallback(() => uppy.pauseAll(), [uppy])
  const resumeAll = useCallback(() => uppy.resumeAll(), [uppy])
  return {
    uppy,
    policy,
    files,
    queued,
    notice,
    add,
    remove,
    retry,
    pause,
    resume,
    pauseAll,
    resumeAll,
    ...unfinished,
  }
}

const selectFiles = (state: State<Meta, UpkitUploadBody>) => state.files

function describeFiles(
  files: State<Meta, UpkitUploadBody>['files'],
  states: Record<string, UpkitFileState>,
): UpkitUppyFile[] {
  return Object.values(files).map((file) => ({
    id: file.id,
    name: file.name ?? file.meta.name,
    size: file.size ?? 0,
    type: file.type ?? '',
    data: file.isRemote ? null : (file.data as Blob),
    paused: file.isPaused ?? false,
    error: file.error ?? null,
    state: states[file.id] ?? null,
    bytesUploaded: file.progress.bytesUploaded || 0,
    percentage: file.progress.percentage ?? 0,
  }))
}
