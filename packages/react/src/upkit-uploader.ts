import { normalizeMimeType, type RouteCall, type UploadApi, type UploadRecord } from '@upkit/core'
import { BasePlugin, type Meta, type PluginOpts, type Uppy, type UppyFile } from '@uppy/core'
import { AbortedError, DEFAULT_RETRY_POLICY, type RetryPolicy } from './backoff'
import { batchingApi } from './batching-api'
import {
  FileTransfer,
  isRetryable,
  PausedError,
  type TransferSettings,
  type UpkitFilePhase,
  type UpkitFileState,
} from './file-transfer'
import { makeThumbnail } from './image-thumbnail'
import { Limiter } from './part-plan'
import { fingerprintOf, indexedDbJournal, type UploadJournal } from './upload-journal'
import { claimUpload } from './upload-locks'

export type { UpkitFilePhase, UpkitFileState }

/** Options of `UpkitUploader`. */
export interface UpkitUploaderOptions extends PluginOpts {
  /** The upkit uploads API, usually `uploadApiFromTRPC(client.uploads)`. */
  readonly api: UploadApi<RouteCall>
  /**
   * Where files go when they do not carry their own route in `meta[UPKIT_CALL_META]` (the hooks always set
   * it, so a file keeps the route and input it was added for). No default: a file with neither fails.
   */
  readonly call?: RouteCall
  /** See `UPLOADER_DEFAULTS.partConcurrency`. */
  readonly partConcurrency?: number
  /** See `UPLOADER_DEFAULTS.signBatchSize`. */
  readonly signBatchSize?: number
  /** See `UPLOADER_DEFAULTS.retry`; fields left out keep their default. */
  readonly retry?: Partial<RetryPolicy>
  /** See `UPLOADER_DEFAULTS.stallTimeoutMs`. */
  readonly stallTimeoutMs?: number
  /** See `UPLOADER_DEFAULTS.progressIntervalMs`. */
  readonly progressIntervalMs?: number
  /** See `UPLOADER_DEFAULTS.urlExpiryMarginMs`. */
  readonly urlExpiryMarginMs?: number
  /**
   * Where unfinished uploads are remembered so a reload can resume them: `indexedDbJournal()` (the browser's
   * IndexedDB, files up to 1 GiB stored with them) where there is one. `false` remembers nothing (a shared
   * kiosk, or a page that must leave no trace of its files in the browser).
   */
  readonly journal?: UploadJournal | false
  /** See `UPLOADER_DEFAULTS.journalAfterMs`. */
  readonly journalAfterMs?: number
  /**
   * Send a small preview (≤ 16 KiB, made in the browser while the bytes travel) with each image's confirm: on.
   * Lists then show a few KiB per row instead of downloading every original to shrink it on screen. Files the
   * browser cannot decode get none (the list shows a type icon).
   */
  readonly thumbnails?: boolean
}

/** Every default of `UpkitUploader`, in one place, each with its reason. */
export const UPLOADER_DEFAULTS = {
  /**
   * Most bucket requests (single PUTs and parts, across all files) of one uploader in flight at once: 6.
   * Browsers open at most 6 HTTP/1.1 connections per origin, so more would only queue inside the browser; fewer
   * leaves bandwidth unused on fast links. Every uploader on the page also shares one limit of 6 per bucket
   * origin, so a dropzone and a comment editor together still stay within the browser's.
   */
  partConcurrency: 6,
  /**
   * Part URLs signed per `signParts` call: 100, the server's maximum. Signing is cheap on the server, and one
   * round trip for the whole file beats one per part. URLs near expiry are signed again.
   */
  signBatchSize: 100,
  /** Backoff for failed requests: 250 ms base, 8 s cap, give up 60 s after the first failure (see `RetryPolicy`). */
  retry: DEFAULT_RETRY_POLICY,
  /**
   * A request with no progress for this long is aborted and retried: 30 s. Long enough for a slow link to move
   * one progress event, short enough that a half-open connection (no error, no bytes) does not hang forever.
   */
  stallTimeoutMs: 30_000,
  /**
   * Progress events per file at most this often: 250 ms. Four a second still moves the bar and the speed
   * smoothly to the eye; each event re-renders the host's UI, and on the demo's task page 100 ms cost ~0.13 s
   * more renderer CPU per GiB uploaded than 500 ms (`pnpm bench`), taken from the cores that send the bytes.
   */
  progressIntervalMs: 250,
  /** A signed URL is signed again when it has less than this left: 60 s, for a request to start and get through auth. */
  urlExpiryMarginMs: 60_000,
  /**
   * A single-PUT upload is remembered in the journal (for resuming after a reload) once it has run this long:
   * 1,000 ms. One that ends sooner is cheaper to send again than to resume, and remembering each file at once
   * (its fingerprint read and hashed, its bytes copied into IndexedDB, a cross-tab lock) cost the page about as
   * much as sending it when 200 small files are dropped together (`pnpm bench`). Multipart uploads, the long
   * ones, are remembered as soon as the server made them. `0` remembers every upload at once.
   */
  journalAfterMs: 1000,
} satisfies TransferSettings & { readonly partConcurrency: number; readonly journalAfterMs: number }

/** The `file.meta` field holding the `RouteCall` (route and input) a file was added for. */
export const UPKIT_CALL_META = 'upkitCall'

/**
 * The `file.meta` field holding the upload id an earlier page load started for this file (from the journal):
 * the uploader carries that upload on instead of creating one.
 */
export const UPKIT_RESUME_META = 'upkitResumeUploadId'

export type UpkitUploaderState = { files: Record<string, UpkitFileState> }

/** What `upload-success` carries in `response.body`. */
export type UpkitUploadBody = { upload: UploadRecord }

const INITIAL_FILE_STATE: UpkitFileState = {
  phase: 'queued',
  startedAt: null,
  uploadId: null,
  resumedBytes: 0,
  retryable: true,
}

function isRouteCall(value: unknown): value is RouteCall {
  return typeof value === 'object' && value !== null && typeof (value as RouteCall).route === 'string'
}

/**
 * An Uppy 6 uploader that sends files straight to the bucket through upkit's signing API: one signed PUT up
 * to the server's multipart threshold, above it a multipart upload with parallel parts. Emits Uppy's
 * `upload-progress`, `upload-success` (body `{ upload }`) and `upload-error`; `uppy.removeFile` cancels
 * (aborting the bucket's multipart upload through `uploads.cancel`), `uppy.retryUpload` resumes with the
 * parts the bucket already has. Each file's upload is a `FileTransfer`; this class only connects them to Uppy.
 *
 * Why upkit ships its own uploader instead of `@uppy/aws-s3` 6.x (whose `signRequest` contract the server
 * still speaks, so the stock plugin works against it too): measured on the same machine and bucket, the stock
 * plugin sends the parts of one file strictly one after another (`#uploadRemainingParts` awaits each part),
 * pays a signing round trip plus a CORS preflight per part and gives up after 3 tries within about a second.
 * Its multipart throughput was 0.20–0.34x a plain parallel client. This plugin sends parts in parallel, signs
 * them in batches (`uploads.signParts`), and retries with backoff for up to a minute per request.
 */
export class UpkitUploader<M extends Meta = Meta> extends BasePlugin<
  UpkitUploaderOptions,
  M,
  UpkitUploadBody,
  UpkitUploaderState
> {
  readonly #transfers = new Map<string, FileTransfer>()
  readonly #limiter: Limiter
  /** Paused files, with what wakes their upload loop (resume, or removal). */
  readonly #waking = new Map<string, () => void>()
  /** The upload id each file is remembered under in the journal, and the release of its cross-tab lock. */
  readonly #claims = new Map<string, { uploadId: string; release: () => void }>()
  /** Uploads ended here whose journal entry is still being removed: still this tab's, not unfinished. */
  readonly #forgetting = new Set<string>()
  /** Files whose claim is being taken, with the upload it is for; `#forget` removes them, cancelling the claim. */
  readonly #remembering = new Map<string, string>()
  /** Single-PUT files not yet remembered (see `journalAfterMs`): the timer, and what it runs. */
  readonly #toRemember = new Map<
    string,
    { timer: ReturnType<typeof setTimeout>; remember: (claim: boolean) => void }
  >()
  readonly #journal: UploadJournal | null
  /** `opts.api` with the creates of files added together, and confirms finishing together, sent as one call. */
  readonly #api: UploadApi<RouteCall>

  constructor(uppy: Uppy<M, UpkitUploadBody>, opts: UpkitUploaderOptions) {
    super(uppy, opts)
    this.id = opts.id ?? 'UpkitUploader'
    this.type = 'uploader'
    this.#limiter = new Limiter(opts.partConcurrency ?? UPLOADER_DEFAULTS.partConcurrency)
    this.#journal = opts.journal === false ? null : (opts.journal ?? sharedJournal())
    // Read at each call, so `setOptions({ api })` applies to the next one.
    this.#api = batchingApi(() => this.opts.api)
  }

  /** The journal unfinished uploads are remembered in, or `null` when this uploader remembers none. */
  get journal(): UploadJournal | null {
    return this.#journal
  }

  /**
   * Whether this uploader is sending `uploadId` now, or has just ended it: its journal entry is then no unfinished
   * upload (an entry is written after the upload is claimed here, and removed before it stops being held).
   */
  holds(uploadId: string): boolean {
    if (this.#forgetting.has(uploadId)) return true
    for (const claim of this.#claims.values()) if (claim.uploadId === uploadId) return true
    return false
  }

  override install(): void {
    this.setPluginState({ files: {} })
    const { capabilities } = this.uppy.getState()
    this.uppy.setState({
      // Resumable in Uppy's sense: `pauseResume`, `pauseAll` and `resumeAll` work and keep the parts sent.
      capabilities: { ...capabilities, individualCancellation: true, resumableUploads: true },
    })
    this.uppy.addUploader(this.#handleUpload)
    this.uppy.on('file-removed', this.#onFileRemoved)
    this.uppy.on('upload-pause', this.#onPause)
    this.uppy.on('pause-all', this.#onPauseAll)
    this.uppy.on('resume-all', this.#onResumeAll)
  }

  override uninstall(): void {
    this.uppy.removeUploader(this.#handleUpload)
    this.uppy.off('file-removed', this.#onFileRemoved)
    this.uppy.off('upload-pause', this.#onPause)
    this.uppy.off('pause-all', this.#onPauseAll)
    this.uppy.off('resume-all', this.#onResumeAll)
    // Unmounting is not cancelling: the uploads stay on the server and in the journal, so the next page load
    // (or this one, remounted) can resume them. Without a journal nothing could, so they are dropped.
    for (const transfer of this.#transfers.values()) {
      if (this.#journal) transfer.halt()
      else transfer.cancel()
    }
    this.#transfers.clear()
    // Halted, not ended: uploads not yet remembered are remembered now, so the next mount or page load can resume
    // them; unclaimed, as this uploader is no longer sending them and releases its claims just below.
    for (const { timer, remember } of this.#toRemember.values()) {
      clearTimeout(timer)
      remember(false)
    }
    this.#toRemember.clear()
    for (const wake of this.#waking.values()) wake()
    for (const claim of this.#claims.values()) claim.release()
    this.#claims.clear()
  }

  /** Options are read at each use, so `setOptions` applies to the next transfer. */
  #settings(): TransferSettings {
    const { opts } = this
    return {
      signBatchSize: opts.signBatchSize ?? UPLOADER_DEFAULTS.signBatchSize,
      retry: { ...UPLOADER_DEFAULTS.retry, ...opts.retry },
      stallTimeoutMs: opts.stallTimeoutMs ?? UPLOADER_DEFAULTS.stallTimeoutMs,
      progressIntervalMs: opts.progressIntervalMs ?? UPLOADER_DEFAULTS.progressIntervalMs,
      urlExpiryMarginMs: opts.urlExpiryMarginMs ?? UPLOADER_DEFAULTS.urlExpiryMarginMs,
    }
  }

  #fileState(fileId: string): UpkitFileState | undefined {
    return this.getPluginState().files?.[fileId]
  }

  #setFileState(fileId: string, patch: Partial<UpkitFileState>): void {
    const files = this.getPluginState().files ?? {}
    const current = files[fileId] ?? INITIAL_FILE_STATE
    const next = { ...current, ...patch }
    const changed = (Object.keys(next) as (keyof UpkitFileState)[]).some((key) => next[key] !== current[key])
    if (changed || !files[fileId]) this.setPluginState({ files: { ...files, [fileId]: next } })
  }

  #handleUpload = async (fileIds: string[]): Promise<void> => {
    const files = fileIds
      .map((id) => this.uppy.getFile(id))
      .filter((file) => file !== undefined && !file.error)
    if (files.length === 0) return
    for (const file of files) this.#setFileState(file.id, { phase: 'queued', retryable: true })
    this.uppy.emit('upload-start', files)
    await Promise.allSettled(files.map((file) => this.#uploadFile(file)))
  }

  #onFileRemoved = (file: UppyFile<M, UpkitUploadBody>): void => {
    this.#transfers.get(file.id)?.cancel()
    this.#transfers.delete(file.id)
    this.#waking.get(file.id)?.()
    this.#forget(file.id)
    const { [file.id]: _removed, ...rest } = this.getPluginState().files ?? {}
    this.setPluginState({ files: rest })
  }

  #onPause = (file: UppyFile<M, UpkitUploadBody> | undefined, isPaused: boolean): void => {
    if (!file) return
    if (isPaused) this.#transfers.get(file.id)?.pause()
    else this.#waking.get(file.id)?.()
  }

  #onPauseAll = (): void => {
    for (const transfer of this.#transfers.values()) transfer.pause()
  }

  #onResumeAll = (): void => {
    for (const wake of [...this.#waking.values()]) wake()
  }

  /** Drops the file's journal entry and cross-tab lock: its upload has ended (confirmed, cancelled, refused). */
  #forget(fileId: string): void {
    this.#remembering.delete(fileId)
    const waiting = this.#toRemember.get(fileId)
    if (waiting) {
      clearTimeout(waiting.timer)
      this.#toRemember.delete(fileId)
    }
    const claim = this.#claims.get(fileId)
    if (!claim) return
    this.#claims.delete(fileId)
    claim.release()
    const journal = this.#journal
    if (!journal) return
    this.#forgetting.add(claim.uploadId)
    void journal
      .remove(claim.uploadId)
      .catch(() => {})
      .finally(() => this.#forgetting.delete(claim.uploadId))
  }

  /**
   * Remembers the file under the upload the server just made (or handed back) and, with `claim`, claims it for
   * this tab.
   */
  async #remember(
    file: UppyFile<M, UpkitUploadBody>,
    uploadId: string,
    expiresAt: string,
    claim = true,
  ): Promise<void> {
    if (claim) {
      const previous = this.#claims.get(file.id)
      if (previous?.uploadId === uploadId) return
      if (previous) this.#forget(file.id)
      this.#remembering.set(file.id, uploadId)
      const release = (await claimUpload(uploadId)) ?? (() => {})
      // The upload may have ended while the lock was taken (a small file often does): then nothing is remembered.
      if (this.#remembering.get(file.id) !== uploadId) return release()
      this.#remembering.delete(file.id)
      this.#claims.set(file.id, { uploadId, release })
    }
    const journal = this.#journal
    const blob = file.data as Blob
    if (!journal) return
    const fingerprint = await fingerprintOf(blob)
    // Ended while it was read: its entry's removal may already be queued, and a save after it would outlive it.
    if (claim && this.#claims.get(file.id)?.uploadId !== uploadId) return
    await journal.save({
      uploadId,
      call: this.#callOf(file),
      fileName: file.name ?? file.meta.name,
      mimeType: normalizeMimeType(file.type || blob.type),
      size: blob.size,
      lastModified: blob instanceof File ? blob.lastModified : Date.now(),
      fingerprint,
      file: blob,
      bytesSent: 0,
      expiresAt: Date.parse(expiresAt),
    })
  }

  #callOf(file: UppyFile<M, UpkitUploadBody>): RouteCall {
    const call = file.meta[UPKIT_CALL_META] ?? this.opts.call
    if (!isRouteCall(call))
      throw new Error(`No upload route for "${file.name}": set the uploader's call option.`)
    return call
  }

  #transferOf(file: UppyFile<M, UpkitUploadBody>): FileTransfer {
    const existing = this.#transfers.get(file.id)
    if (existing && !existing.needsRestart) return existing
    existing?.discard()
    const call = this.#callOf(file)
    const blob = file.data as Blob
    const resumeUploadId = existing ? undefined : file.meta[UPKIT_RESUME_META]
    let thumbnail: Promise<string | null> | null = null
    const thumbnailOf = () => {
      thumbnail ??=
        this.opts.thumbnails === false
          ? Promise.resolve(null)
          : makeThumbnail(blob).then(
              (made) => made?.base64 ?? null,
              () => null,
            )
      return thumbnail
    }
    const transfer = new FileTransfer(
      {
        blob,
        fileName: file.name ?? file.meta.name,
        mimeType: normalizeMimeType(file.type || blob.type),
        call,
        ...(typeof resumeUploadId === 'string' ? { resumeUploadId } : {}),
        thumbnail: thumbnailOf,
      },
      {
        api: this.#api,
        settings: this.#settings(),
        limiter: this.#limiter,
        getState: () => this.#fileState(file.id),
        setState: (patch) => this.#setFileState(file.id, patch),
        progress: (progress) => {
          const current = this.uppy.getFile(file.id)
          if (current) this.uppy.emit('upload-progress', current, progress)
          const claim = this.#claims.get(file.id)
          if (claim) this.#journal?.progress(claim.uploadId, progress.bytesUploaded)
        },
        // Not awaited: the journal is bookkeeping for a later page load, and must never hold the bytes back.
        created: (created) => {
          // Made while the bytes travel, so confirm rarely waits for it.
          void thumbnailOf()
          const remember = (claim = true) =>
            void this.#remember(file, created.upload.id, created.expiresAt, claim).catch(() => {})
          const after = this.opts.journalAfterMs ?? UPLOADER_DEFAULTS.journalAfterMs
          if (created.transfer.type !== 'single' || after <= 0) return remember()
          const waiting = this.#toRemember.get(file.id)
          if (waiting) clearTimeout(waiting.timer)
          const timer = setTimeout(() => {
            this.#toRemember.delete(file.id)
            remember()
          }, after)
          this.#toRemember.set(file.id, { timer, remember })
        },
      },
    )
    this.#transfers.set(file.id, transfer)
    return transfer
  }

  /** Resolves when the paused file is resumed (or removed). */
  #untilResumed(fileId: string): Promise<void> {
    return new Promise((resolve) => {
      this.#waking.set(fileId, () => {
        this.#waking.delete(fileId)
        resolve()
      })
    })
  }

  async #uploadFile(file: UppyFile<M, UpkitUploadBody>): Promise<void> {
    let transfer: FileTransfer | undefined
    try {
      const resumeUploadId = file.meta[UPKIT_RESUME_META]
      if (typeof resumeUploadId === 'string' && !this.#claims.has(file.id)) {
        const release = await claimUpload(resumeUploadId)
        if (!release) throw new Error(`"${file.name}" is being uploaded in another tab.`)
        this.#claims.set(file.id, { uploadId: resumeUploadId, release })
      }
      transfer = this.#transferOf(file)
      let record: UploadRecord | null = null
      while (record === null) {
        // Paused before it started (or while it was paused): wait, holding no connection.
        if (this.uppy.getFile(file.id)?.isPaused) {
          this.#setFileState(file.id, { phase: 'paused' })
          await this.#untilResumed(file.id)
          if (!this.uppy.getFile(file.id) || !this.#transfers.has(file.id)) return
        }
        try {
          record = await transfer.start()
        } catch (error) {
          if (!(error instanceof PausedError)) throw error
          if (!this.uppy.getFile(file.id)?.isPaused) this.uppy.setFileState(file.id, { isPaused: true })
        }
      }
      this.#setFileState(file.id, { phase: 'done' })
      this.#forget(file.id)
      this.uppy.emit('upload-success', this.uppy.getFile(file.id), { status: 200, body: { upload: record } })
    } catch (error) {
      if (transfer?.aborted || error instanceof AbortedError) return
      const message = error instanceof Error ? error.message : String(error)
      const retryable = isRetryable(error)
      // Nothing can carry a refused upload on, after a reload or otherwise.
      if (!retryable) this.#forget(file.id)
      this.#setFileState(file.id, { phase: 'error', retryable })
      const uppyError = Object.assign(new Error(message), {
        name: error instanceof Error ? error.name : 'Error',
      })
      this.uppy.emit('upload-error', this.uppy.getFile(file.id), uppyError)
    }
  }
}

/** One journal for every uploader of the page (one IndexedDB connection), opened on first use. */
let journalOfPage: UploadJournal | null | undefined
function sharedJournal(): UploadJournal | null {
  if (journalOfPage === undefined) journalOfPage = indexedDbJournal()
  return journalOfPage
}
