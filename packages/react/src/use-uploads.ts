import type { PublicRoutePolicy, RouteCall, RouteCallOf, UploadApi, UploadRecord } from '@upkit/core'
import { useCallback, useMemo } from 'react'
import type { UpkitFilePhase } from './file-transfer'
import { summarizeProgress } from './progress'
import type { PolicyState } from './route-policies'
import type { UpkitUploaderOptions } from './upkit-uploader'
import type { UnfinishedUploads } from './use-unfinished-uploads'
import { type UpkitUppy, type UpkitUppyFile, useUpkitUppy } from './use-upkit-uppy'

export interface UseUploadsOptions<TCall extends RouteCall, TRoute extends TCall['route']> {
  /** `uploadApiFromTRPC(client.uploads)`; its route calls type `route` and `input`. */
  readonly api: UploadApi<TCall>
  /** A bucket route of the server (`'taskAttachment'`). */
  readonly route: TRoute
  /** The route's input (`{ taskId }`). Files keep the input they were added with, even if it changes later. */
  readonly input: RouteCallOf<TCall, TRoute>['input']
  /** Called after the server confirmed each file; hosts refresh their list here. */
  readonly onUploaded?: (upload: UploadRecord) => void
  /**
   * The route's policy. Default: the server's, from `api.policies()` (fetched once per api object), so the
   * browser refuses exactly what the server would. Give it only to check against other rules than the server's.
   */
  readonly policy?: Omit<Extract<PublicRoutePolicy, { type: 'bucket' }>, 'type'>
  /** See `UPLOADER_DEFAULTS.partConcurrency` (default 6). */
  readonly partConcurrency?: number
  /** See `UPLOADER_DEFAULTS.retry`. */
  readonly retry?: UpkitUploaderOptions['retry']
  /**
   * How long a finished file stays in the upload list. Default 1500 ms: long enough to see it finish, short
   * enough that the host's list of uploads, not this list of transfers, is where the file lives.
   */
  readonly doneLingerMs?: number
  /**
   * Remember unfinished uploads in this browser (IndexedDB, with the file itself up to 1 GiB) so that after a
   * reload, a crash or a remount they are listed in `unfinished` to resume: true, since losing a half-sent large
   * file is what people mind most. False on shared machines, or where files must leave no trace in the browser:
   * unmounting then cancels what is in flight.
   */
  readonly rememberUnfinished?: boolean
}

export type UploadStatus = UpkitFilePhase

export interface Upload {
  readonly id: string
  readonly name: string
  readonly size: number
  /** The file's MIME type as the browser reported it ('' when unknown). */
  readonly type: string
  /** The local file being sent (for a preview), or null. */
  readonly file: Blob | null
  readonly percent: number
  readonly bytesUploaded: number
  readonly bytesPerSecond: number | null
  readonly secondsLeft: number | null
  /** "12 MiB/s · 8 s left", or '' when unknown. */
  readonly progressLabel: string
  readonly status: UploadStatus
  readonly error: string | null
  /** After an error: whether Retry can succeed (false when the server refused the file itself). */
  readonly retryable: boolean
}

export interface Uploads extends UnfinishedUploads {
  /** The Uppy instance (for `UppyContextProvider` and `@uppy/react`'s `useDropzone` / `useFileInput`). */
  readonly uppy: UpkitUppy
  readonly files: readonly Upload[]
  readonly total: { readonly percent: number; readonly bytesUploaded: number; readonly size: number }
  /** The route's policy: `loading` until `api.policies()` answers. */
  readonly policy: PolicyState<Extract<PublicRoutePolicy, { type: 'bucket' }>>
  /** Files added while the policy was loading; they are checked (and start) when it arrives. */
  readonly queued: number
  /** Why the files last added were not all accepted (show it as an alert), or null. */
  readonly notice: string | null
  addFiles(files: Iterable<File> | ArrayLike<File>): void
  cancel(fileId: string): void
  retry(fileId: string): void
  /** Stops sending a file, keeping what reached the bucket (at most one part is sent again on resume). */
  pause(fileId: string): void
  resume(fileId: string): void
  pauseAll(): void
  resumeAll(): void
}

const PLUGIN_ID = 'UpkitUploader'

/**
 * Uploads to one bucket route: one Uppy instance with `UpkitUploader` for the component's lifetime, files
 * starting as soon as they are added, each checked against the route's policy first. Unmounting stops what is
 * still in flight without cancelling it: it is listed in `unfinished` when the route is shown again (or after a
 * reload), to resume or discard.
 */
export function useUploads<TCall extends RouteCall, TRoute extends TCall['route']>(
  options: UseUploadsOptions<TCall, TRoute>,
): Uploads {
  const { onUploaded } = options
  const uploader = useUpkitUppy(PLUGIN_ID, {
    api: options.api as UploadApi<RouteCall>,
    call: { route: options.route, input: options.input },
    policy: options.policy,
    partConcurrency: options.partConcurrency,
    retry: options.retry,
    onUploaded: (upload) => onUploaded?.(upload),
    removeDoneAfterMs: options.doneLingerMs ?? 1500,
    rememberUnfinished: options.rememberUnfinished,
  })
  const { uppy } = uploader
  const view = useMemo(() => describe(uploader.files), [uploader.files])
  const addFiles = useCallback(
    (files: Iterable<File> | ArrayLike<File>) => {
      const list = Array.from(files)
      if (list.length === 0) return
      // Through Uppy, like `@uppy/react`'s dropzone and file input: the policy check is in `onBeforeFileAdded`.
      uppy.addFiles(list.map((file) => ({ name: file.name, type: file.type, data: file, source: 'upkit' })))
    },
    [uppy],
  )
  return {
    ...view,
    uppy,
    policy: uploader.policy,
    queued: uploader.queued,
    notice: uploader.notice,
    addFiles,
    cancel: uploader.remove,
    retry: uploader.retry,
    pause: uploader.pause,
    resume: uploader.resume,
    pauseAll: uploader.pauseAll,
    resumeAll: uploader.resumeAll,
    unfinished: uploader.unfinished,
    resumeUnfinished: uploader.resumeUnfinished,
    discardUnfinished: uploader.discardUnfinished,
  }
}

function describe(uploaderFiles: readonly UpkitUppyFile[]): Pick<Uploads, 'files' | 'total'> {
  const now = Date.now()
  const files: Upload[] = uploaderFiles.map((file) => {
    const phase = file.state?.phase ?? 'queued'
    // Uppy marks the file paused at once; the uploader's phase follows when its parts have stopped.
    const status: UpkitFilePhase = file.error
      ? 'error'
      : file.paused && phase !== 'done' && phase !== 'paused' && phase !== 'confirming'
        ? 'pausing'
        : phase
    const bytesUploaded = status === 'done' ? file.size : file.bytesUploaded
    const summary = summarizeProgress({
      loaded: bytesUploaded,
      total: file.size,
      startedAt: file.state?.startedAt ?? now,
      now,
      resumedBytes: file.state?.resumedBytes ?? 0,
    })
    const showRate = status === 'uploading' || status === 'retrying'
    return {
      id: file.id,
      name: file.name,
      size: file.size,
      type: file.type,
      file: file.data,
      percent: status === 'done' ? 100 : summary.percent,
      bytesUploaded,
      bytesPerSecond: showRate ? summary.bytesPerSecond : null,
      secondsLeft: showRate ? summary.secondsLeft : null,
      progressLabel: showRate ? summary.label : '',
      status,
      error: file.error,
      retryable: file.state?.retryable ?? true,
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
