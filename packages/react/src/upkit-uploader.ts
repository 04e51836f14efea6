import {
  type CreatedUpload,
  checkFileAllowed,
  type FileKind,
  normalizeMimeType,
  type SignedRequest,
  type UploadApi,
  type UploadRecord,
} from '@upkit/core'
import { BasePlugin, type Meta, type PluginOpts, type Uppy, type UppyFile } from '@uppy/core'
import { AbortedError, DEFAULT_RETRY_POLICY, type RetryPolicy, withRetry } from './backoff'
import { type BucketRequest, type BucketResponse, sendToBucket } from './bucket-request'
import { Limiter, type MultipartPlan, originLimiter, partRange, resumeState, signBatch } from './part-plan'
import { buildCompleteMultipartXml, parseListParts, parseS3Error } from './s3-xml'
import {
  apiErrorCode,
  BucketHttpError,
  classifyApiError,
  classifyBucketError,
  presignedUrlExpiresAt,
} from './transfer-errors'

/** Options of `UpkitUploader`. */
export interface UpkitUploaderOptions extends PluginOpts {
  /** The upkit uploads API (a tRPC client wrapped in one-line adapters). */
  readonly api: UploadApi
  /** The task the files are attached to. */
  readonly taskId: string
  /** Which policy applies. Default `'attachment'`, the only kind tasks take today. */
  readonly kind?: FileKind
  /**
   * Most bucket requests (single PUTs and parts, across all files) of this uploader in flight at once. Default
   * 6: browsers open at most 6 HTTP/1.1 connections per origin, so more requests would only queue inside the
   * browser; fewer leaves bandwidth unused on fast links. Every uploader on the page also shares one limit of
   * 6 per bucket origin, so a dropzone and a comment editor together still stay within the browser's.
   */
  readonly partConcurrency?: number
  /**
   * Part URLs signed per `signParts` call. Default 100 (the server's maximum): signing is cheap on the server,
   * and one round trip for the whole file beats one per part. URLs near expiry are signed again.
   */
  readonly signBatchSize?: number
  /** Backoff for failed requests. Default 250 ms base, 8 s cap, give up 60 s after the first failure. */
  readonly retry?: Partial<RetryPolicy>
  /**
   * A request with no progress for this long is aborted and retried. Default 30 s: long enough for a slow link
   * to move one progress event, short enough that a half-open connection (no error, no bytes) does not hang
   * the upload forever.
   */
  readonly stallTimeoutMs?: number
}

/** Where a file stands, beyond Uppy's own progress: what the hook turns into the status people see. */
export type UpkitFilePhase = 'queued' | 'uploading' | 'retrying' | 'confirming' | 'done' | 'error'

export interface UpkitFileState {
  readonly phase: UpkitFilePhase
  /** When the current transfer started (ms since the epoch), for speed and time left. */
  readonly startedAt: number | null
  /** Upkit's upload id once created. */
  readonly uploadId: string | null
  /**
   * Bytes the bucket already had when the current transfer resumed (0 for a fresh one): they count towards
   * progress but not towards speed, which only this transfer's bytes since `startedAt` measure.
   */
  readonly resumedBytes: number
}

/** The `file.meta` field holding the task a file was added for; the uploader's `taskId` option otherwise. */
export const TASK_ID_META = 'upkitTaskId'

export type UpkitUploaderState = { files: Record<string, UpkitFileState> }

/** What `upload-success` carries in `response.body`. */
export type UpkitUploadBody = { upload: UploadRecord }

/**
 * Progress events per file at most this often. 250 ms (4 a second) still moves the bar and the speed smoothly to
 * the eye; each event re-renders the host's UI, and on the demo's task page 100 ms cost ~0.13 s more renderer
 * CPU per GiB uploaded than 500 ms (`pnpm bench`), taken from the same cores that send the bytes.
 */
const PROGRESS_INTERVAL_MS = 250

/** A URL is re-signed when it has less than this left: a request must start and get through auth in time. */
const URL_EXPIRY_MARGIN_MS = 60_000

interface SignedUrl {
  readonly url: string
  readonly headers: Record<string, string>
  readonly expiresAt: number | null
}

interface Job {
  controller: AbortController
  running: Promise<void> | null
  created: CreatedUpload | null
  s3UploadId: string | null
  /** Parts the bucket has acknowledged in this session, with their ETags. */
  readonly etags: Map<number, string>
  readonly partUrls: Map<number, SignedUrl>
  readonly signing: Map<number, Promise<void>>
  /** Bytes sent per part (1 for a single PUT). */
  readonly loaded: Map<number, number>
  /**
   * Every byte is in the bucket (the single PUT or Complete succeeded): a retry only confirms, since sending
   * again would repeat the whole file, and ListParts on a completed multipart upload finds nothing.
   */
  transferred: boolean
  /** The server refused the object itself (confirm said so): a retry cancels this upload and starts a new one. */
  restart: boolean
  confirmed: boolean
  lastProgressEmit: number
}

function taskIdOf(meta: Meta): string | null {
  const taskId = meta[TASK_ID_META]
  return typeof taskId === 'string' ? taskId : null
}

function toSignedUrl(signed: { url: string; headers: Record<string, string> }): SignedUrl {
  return { url: signed.url, headers: signed.headers, expiresAt: presignedUrlExpiresAt(signed.url) }
}

function isFresh(url: SignedUrl | undefined): url is SignedUrl {
  return url !== undefined && (url.expiresAt === null || url.expiresAt - Date.now() > URL_EXPIRY_MARGIN_MS)
}

/** Server answers meaning "this upload is gone": a resumed upload starts over instead of failing. */
const GONE_CODES = new Set(['NOT_FOUND', 'UPLOAD_NOT_PENDING', 'UPLOAD_EXPIRED'])

/**
 * Confirm answers about the object (or the row) that no retry of confirm can fix: only a new upload can. Any
 * other failure (the API unreachable for longer than the retry policy, a 5xx) leaves the object in place, so
 * a retry just confirms again.
 */
const RESTART_CODES = new Set([
  'OBJECT_MISSING',
  'OBJECT_SIZE_MISMATCH',
  'OBJECT_TYPE_MISMATCH',
  'UPLOAD_NOT_PENDING',
])

/**
 * An Uppy 6 uploader that sends files straight to the bucket through upkit's signing API: one signed PUT up
 * to the server's multipart threshold, above it a multipart upload with parallel parts. Emits Uppy's
 * `upload-progress`, `upload-success` (body `{ upload }`) and `upload-error`; `uppy.removeFile` cancels
 * (aborting the bucket's multipart upload through `uploads.cancel`), `uppy.retryUpload` resumes with the
 * parts the bucket already has.
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
  readonly #jobs = new Map<string, Job>()
  readonly #limiter: Limiter
  readonly #retryPolicy: RetryPolicy

  constructor(uppy: Uppy<M, UpkitUploadBody>, opts: UpkitUploaderOptions) {
    super(uppy, opts)
    this.id = opts.id ?? 'UpkitUploader'
    this.type = 'uploader'
    this.#limiter = new Limiter(opts.partConcurrency ?? 6)
    this.#retryPolicy = { ...DEFAULT_RETRY_POLICY, ...opts.retry }
  }

  override install(): void {
    this.setPluginState({ files: {} })
    const { capabilities } = this.uppy.getState()
    this.uppy.setState({
      capabilities: { ...capabilities, individualCancellation: true, resumableUploads: false },
    })
    this.uppy.addUploader(this.#handleUpload)
    this.uppy.on('file-removed', this.#onFileRemoved)
  }

  override uninstall(): void {
    this.uppy.removeUploader(this.#handleUpload)
    this.uppy.off('file-removed', this.#onFileRemoved)
    for (const [fileId] of this.#jobs) this.#cancel(fileId)
  }

  #setFileState(fileId: string, patch: Partial<UpkitFileState>): void {
    const files = this.getPluginState().files ?? {}
    const current: UpkitFileState = files[fileId] ?? {
      phase: 'queued',
      startedAt: null,
      uploadId: null,
      resumedBytes: 0,
    }
    const next = { ...current, ...patch }
    if (
      next.phase === current.phase &&
      next.startedAt === current.startedAt &&
      next.uploadId === current.uploadId &&
      next.resumedBytes === current.resumedBytes
    )
      return
    this.setPluginState({ files: { ...files, [fileId]: next } })
  }

  #handleUpload = async (fileIds: string[]): Promise<void> => {
    const files = fileIds
      .map((id) => this.uppy.getFile(id))
      .filter((file) => file !== undefined && !file.error)
    if (files.length === 0) return
    for (const file of files) this.#setFileState(file.id, { phase: 'queued' })
    this.uppy.emit('upload-start', files)
    await Promise.allSettled(files.map((file) => this.#uploadFile(file)))
  }

  #onFileRemoved = (file: UppyFile<M, UpkitUploadBody>): void => {
    this.#cancel(file.id)
    const { [file.id]: _removed, ...rest } = this.getPluginState().files ?? {}
    this.setPluginState({ files: rest })
  }

  /** Stops the transfers, waits until they have stopped, then has the server abort the multipart upload. */
  #cancel(fileId: string): void {
    const job = this.#jobs.get(fileId)
    if (!job) return
    this.#jobs.delete(fileId)
    job.controller.abort(new AbortedError())
    void (async () => {
      await job.running?.catch(() => {})
      if (job.created && !job.confirmed)
        await this.opts.api.cancel({ uploadId: job.created.upload.id }).catch(() => {})
    })()
  }

  /** Has the server drop an upload this uploader no longer uses (its row and any object or multipart upload). */
  #discard(created: CreatedUpload | null): void {
    if (created) void this.opts.api.cancel({ uploadId: created.upload.id }).catch(() => {})
  }

  async #uploadFile(file: UppyFile<M, UpkitUploadBody>): Promise<void> {
    let job = this.#jobs.get(file.id)
    if (!job || job.restart) {
      if (job) this.#discard(job.created)
      job = {
        controller: new AbortController(),
        running: null,
        created: null,
        s3UploadId: null,
        etags: new Map(),
        partUrls: new Map(),
        signing: new Map(),
        loaded: new Map(),
        transferred: false,
        restart: false,
        confirmed: false,
        lastProgressEmit: 0,
      }
      this.#jobs.set(file.id, job)
    } else {
      job.controller = new AbortController()
    }
    const current = job
    const run = this.#run(file, current)
    current.running = run.then(
      () => {},
      () => {},
    )
    try {
      const record = await run
      current.confirmed = true
      this.#setFileState(file.id, { phase: 'done' })
      this.uppy.emit('upload-success', this.uppy.getFile(file.id), { status: 200, body: { upload: record } })
    } catch (error) {
      if (current.controller.signal.aborted || error instanceof AbortedError) return
      const message = error instanceof Error ? error.message : String(error)
      this.#setFileState(file.id, { phase: 'error' })
      const uppyError = Object.assign(new Error(message), {
        name: error instanceof Error ? error.name : 'Error',
      })
      this.uppy.emit('upload-error', this.uppy.getFile(file.id), uppyError)
    }
  }

  async #run(file: UppyFile<M, UpkitUploadBody>, job: Job): Promise<UploadRecord> {
    const signal = job.controller.signal
    const blob = file.data as Blob
    const fileName = file.name ?? file.meta.name
    const mimeType = normalizeMimeType(file.type || blob.type)
    const kind = this.opts.kind ?? 'attachment'
    // Same rules as the server, so a too-large or unsupported file fails at once, before any request.
    const refusal = checkFileAllowed(kind, { fileName, size: blob.size, mimeType })
    if (refusal) throw Object.assign(new Error(refusal.message), { name: 'RestrictionError' })

    const startedAt = Date.now()
    this.#setFileState(file.id, { phase: 'uploading', startedAt, resumedBytes: 0 })
    const resuming = job.created !== null
    try {
      return await this.#transfer(file, blob, job, { fileName, mimeType, kind, startedAt })
    } catch (error) {
      const gone =
        GONE_CODES.has(apiErrorCode(error) ?? '') ||
        (error instanceof BucketHttpError && error.code === 'NoSuchUpload')
      if (!resuming || !gone || signal.aborted) throw error
      // The upload we were resuming no longer exists (expired, swept, or failed): start a fresh one.
      this.#discard(job.created)
      job.restart = false
      job.transferred = false
      this.#setFileState(file.id, { resumedBytes: 0 })
      job.created = null
      job.s3UploadId = null
      job.etags.clear()
      job.partUrls.clear()
      job.loaded.clear()
      return this.#transfer(file, blob, job, { fileName, mimeType, kind, startedAt })
    }
  }

  async #transfer(
    file: UppyFile<M, UpkitUploadBody>,
    blob: Blob,
    job: Job,
    info: { fileName: string; mimeType: string; kind: FileKind; startedAt: number },
  ): Promise<UploadRecord> {
    const signal = job.controller.signal
    const api = this.opts.api
    // Fresh: create answered with the multipart upload already made and the first requests signed. Otherwise we
    // are resuming, and the bucket must say which parts it has.
    const fresh = job.created === null
    if (job.created === null) {
      const created = await this.#callApi(
        () =>
          api.create({
            // The task the file was added for: the host may have moved to another task while it queued or failed.
            taskId: taskIdOf(file.meta) ?? this.opts.taskId,
            fileName: info.fileName,
            size: blob.size,
            mimeType: info.mimeType,
            kind: info.kind,
          }),
        signal,
        file.id,
      )
      job.created = created
      job.s3UploadId = created.s3UploadId
      for (const part of created.signedParts) job.partUrls.set(part.partNumber, toSignedUrl(part))
    }
    const created = job.created
    this.#setFileState(file.id, { uploadId: created.upload.id })
    if (signal.aborted) throw new AbortedError()

    if (!job.transferred) {
      if (created.transfer.type === 'single') {
        const signedPut = fresh && created.signedPut ? toSignedUrl(created.signedPut) : undefined
        await this.#putSingle(file, blob, job, created, signedPut, info)
      } else {
        await this.#putMultipart(file, blob, job, created, created.transfer, fresh, info)
      }
      job.transferred = true
    }
    job.loaded.clear()
    job.loaded.set(1, blob.size)
    this.#emitProgress(file.id, job, info.startedAt, blob.size, true)
    this.#setFileState(file.id, { phase: 'confirming' })
    try {
      return await this.#callApi(() => api.confirm({ uploadId: created.upload.id }), signal, file.id)
    } catch (error) {
      // A refused object (size or type mismatch, missing) or a failed row: only a new upload can fix that.
      if (!signal.aborted && RESTART_CODES.has(apiErrorCode(error) ?? '')) job.restart = true
      throw error
    }
  }

  async #putSingle(
    file: UppyFile<M, UpkitUploadBody>,
    blob: Blob,
    job: Job,
    created: CreatedUpload,
    signedPut: SignedUrl | undefined,
    info: { fileName: string; startedAt: number },
  ): Promise<void> {
    const signal = job.controller.signal
    let url = signedPut
    await this.#withBucketRetry(
      async ({ resign }) => {
        if (resign || !isFresh(url)) {
          url = toSignedUrl(await this.#sign(job, created, { method: 'PUT' }, file.id))
        }
        const signed = url
        await this.#limited(signed.url, signal, () => {
          job.loaded.set(1, 0)
          return this.#send({
            method: 'PUT',
            url: signed.url,
            headers: signed.headers,
            body: blob,
            signal,
            what: `"${info.fileName}"`,
            onProgress: (loaded) => {
              job.loaded.set(1, loaded)
              this.#emitProgress(file.id, job, info.startedAt, blob.size)
            },
          })
        })
      },
      () => url?.expiresAt ?? null,
      file.id,
      signal,
    )
  }

  async #putMultipart(
    file: UppyFile<M, UpkitUploadBody>,
    blob: Blob,
    job: Job,
    created: CreatedUpload,
    plan: MultipartPlan,
    fresh: boolean,
    info: { fileName: string; startedAt: number },
  ): Promise<void> {
    const fileSignal = job.controller.signal
    if (job.s3UploadId === null)
      throw new Error(`The server did not start the multipart upload of "${info.fileName}".`)
    if (!fresh) {
      // Resuming (after `retryUpload` or a failure): the bucket, not our memory, says which parts arrived.
      const response = await this.#signedBucketRequest(
        job,
        created,
        { method: 'GET', uploadId: job.s3UploadId },
        null,
        file.id,
        `"${info.fileName}"`,
      )
      const { done } = resumeState(plan, parseListParts(response.text))
      job.etags.clear()
      job.loaded.clear()
      for (const part of done) {
        job.etags.set(part.partNumber, part.etag)
        const { start, end } = partRange(plan, part.partNumber)
        job.loaded.set(part.partNumber, end - start)
      }
      let resumedBytes = 0
      for (const bytes of job.loaded.values()) resumedBytes += bytes
      this.#setFileState(file.id, { resumedBytes })
    }
    const s3UploadId = job.s3UploadId
    const missing: number[] = []
    for (let n = 1; n <= plan.partCount; n++) if (!job.etags.has(n)) missing.push(n)
    this.#emitProgress(file.id, job, info.startedAt, blob.size, true)

    // One failed part (after its retries) stops the others: the file has failed, and `retryUpload` resumes.
    const partsController = new AbortController()
    const stopParts = () => partsController.abort(new AbortedError())
    fileSignal.addEventListener('abort', stopParts, { once: true })
    const signal = partsController.signal
    // Complete's URL is signed while the parts travel, so the last part is followed by Complete at once instead
    // of by a signing round trip. If it has expired by then (a slow upload), it is simply signed again.
    const completeSigned = this.#sign(job, created, { method: 'POST', uploadId: s3UploadId }, file.id).then(
      toSignedUrl,
      () => undefined,
    )
    let firstError: unknown = null
    await Promise.all(
      missing.map((partNumber) =>
        this.#uploadPart(file, blob, job, created, plan, s3UploadId, partNumber, missing, signal, info).catch(
          (error) => {
            if (firstError === null && !(error instanceof AbortedError)) firstError = error
            stopParts()
          },
        ),
      ),
    )
    fileSignal.removeEventListener('abort', stopParts)
    if (fileSignal.aborted) throw new AbortedError()
    if (firstError !== null) throw firstError

    const parts = [...job.etags].map(([partNumber, etag]) => ({ partNumber, etag }))
    let attempts = 0
    await this.#withBucketRetry(
      async ({ resign }) => {
        attempts++
        const prefetched = attempts === 1 && !resign ? await completeSigned : undefined
        const signed = isFresh(prefetched)
          ? prefetched
          : toSignedUrl(await this.#sign(job, created, { method: 'POST', uploadId: s3UploadId }, file.id))
        try {
          const response = await this.#send({
            method: 'POST',
            url: signed.url,
            headers: signed.headers,
            body: buildCompleteMultipartXml(parts),
            signal: fileSignal,
            what: `completing "${info.fileName}"`,
          })
          // S3 may answer 200 and still report an error in the body (the connection is kept alive meanwhile).
          const s3Error = parseS3Error(response.text)
          if (s3Error) throw new BucketHttpError(500, response.text, `completing "${info.fileName}"`)
        } catch (error) {
          // A repeated Complete whose first answer was lost finds the upload already gone; confirm decides.
          if (attempts > 1 && error instanceof BucketHttpError && error.code === 'NoSuchUpload') return
          throw error
        }
      },
      () => null,
      file.id,
      fileSignal,
    )
  }

  async #uploadPart(
    file: UppyFile<M, UpkitUploadBody>,
    blob: Blob,
    job: Job,
    created: CreatedUpload,
    plan: MultipartPlan,
    s3UploadId: string,
    partNumber: number,
    wanted: readonly number[],
    signal: AbortSignal,
    info: { fileName: string; startedAt: number },
  ): Promise<void> {
    const { start, end } = partRange(plan, partNumber)
    const body = blob.slice(start, end)
    let used: SignedUrl | undefined
    await this.#withBucketRetry(
      async ({ resign }) => {
        if (resign) job.partUrls.delete(partNumber)
        const url = await this.#partUrl(job, created, s3UploadId, partNumber, wanted, signal, file.id)
        used = url
        // The slot is taken for the transfer only: a part waiting out a backoff must not hold a connection.
        const response = await this.#limited(url.url, signal, () => {
          job.loaded.set(partNumber, 0)
          return this.#send({
            method: 'PUT',
            url: url.url,
            headers: url.headers,
            body,
            signal,
            what: `part ${partNumber} of "${info.fileName}"`,
            onProgress: (loaded) => {
              job.loaded.set(partNumber, loaded)
              this.#emitProgress(file.id, job, info.startedAt, blob.size)
            },
          })
        })
        if (!response.etag) {
          throw new Error(
            `The storage did not expose the ETag of part ${partNumber}; its CORS rules must list ETag in ExposeHeaders.`,
          )
        }
        job.etags.set(partNumber, response.etag)
        job.loaded.set(partNumber, end - start)
        this.#emitProgress(file.id, job, info.startedAt, blob.size)
      },
      () => used?.expiresAt ?? null,
      file.id,
      signal,
    )
  }

  /** A fresh signed URL for one part; signs it together with the next parts that need one. */
  async #partUrl(
    job: Job,
    created: CreatedUpload,
    s3UploadId: string,
    partNumber: number,
    wanted: readonly number[],
    signal: AbortSignal,
    fileId: string,
  ): Promise<SignedUrl> {
    const cached = job.partUrls.get(partNumber)
    if (isFresh(cached)) return cached
    const pending = job.signing.get(partNumber)
    if (pending) await pending
    else {
      const batch = signBatch(
        partNumber,
        wanted.filter((n) => !job.etags.has(n)),
        (n) => isFresh(job.partUrls.get(n)) || job.signing.has(n),
        this.opts.signBatchSize ?? 100,
      )
      const promise = this.#callApi(
        () => this.opts.api.signParts({ uploadId: created.upload.id, s3UploadId, partNumbers: batch }),
        signal,
        fileId,
      ).then((parts) => {
        for (const part of parts) job.partUrls.set(part.partNumber, toSignedUrl(part))
      })
      for (const n of batch) job.signing.set(n, promise)
      try {
        await promise
      } finally {
        for (const n of batch) if (job.signing.get(n) === promise) job.signing.delete(n)
      }
    }
    const url = job.partUrls.get(partNumber)
    if (!url) throw new Error(`The server did not sign part ${partNumber}.`)
    return url
  }

  /** Signs and sends one bucket request (ListParts), re-signing and retrying as needed. */
  async #signedBucketRequest(
    job: Job,
    created: CreatedUpload,
    request: { method: 'POST' | 'GET'; uploadId?: string },
    body: string | null,
    fileId: string,
    what: string,
  ): Promise<BucketResponse> {
    const signal = job.controller.signal
    let url: SignedUrl | undefined
    return this.#withBucketRetry(
      async ({ resign }) => {
        if (resign || !isFresh(url)) url = toSignedUrl(await this.#sign(job, created, request, fileId))
        return this.#send({ method: request.method, url: url.url, headers: url.headers, body, signal, what })
      },
      () => url?.expiresAt ?? null,
      fileId,
      signal,
    )
  }

  #sign(
    job: Job,
    created: CreatedUpload,
    request: { method: 'PUT' | 'POST' | 'GET' | 'DELETE'; uploadId?: string },
    fileId: string,
  ): Promise<SignedRequest> {
    return this.#callApi(
      () => this.opts.api.sign({ uploadId: created.upload.id, request: { ...request, key: created.key } }),
      job.controller.signal,
      fileId,
    )
  }

  /**
   * Runs `task` (one transfer) within this uploader's `partConcurrency` and the page-wide connection limit of
   * the bucket's origin, so two uploaders on one page never open more requests than the browser will serve
   * (a request queued inside the browser would run its stall timer while waiting).
   */
  #limited<T>(url: string, signal: AbortSignal, task: () => Promise<T>): Promise<T> {
    return this.#limiter.run(() => originLimiter(url).run(task, signal), signal)
  }

  #send(request: Omit<BucketRequest, 'stallTimeoutMs'>): Promise<BucketResponse> {
    return sendToBucket({ ...request, stallTimeoutMs: this.opts.stallTimeoutMs ?? 30_000 })
  }

  #withBucketRetry<T>(
    attempt: (options: { resign: boolean }) => Promise<T>,
    expiresAt: () => number | null,
    fileId: string,
    signal: AbortSignal,
  ): Promise<T> {
    return withRetry(
      async (options) => {
        const result = await attempt(options)
        this.#markUploading(fileId)
        return result
      },
      (error) => classifyBucketError(error, { expiresAt: expiresAt(), now: Date.now() }),
      { policy: this.#retryPolicy, signal, onRetry: () => this.#setFileState(fileId, { phase: 'retrying' }) },
    )
  }

  #callApi<T>(call: () => Promise<T>, signal: AbortSignal, fileId: string): Promise<T> {
    return withRetry(
      async () => {
        const result = await call()
        this.#markUploading(fileId)
        return result
      },
      classifyApiError,
      { policy: this.#retryPolicy, signal, onRetry: () => this.#setFileState(fileId, { phase: 'retrying' }) },
    )
  }

  #markUploading(fileId: string): void {
    if (this.getPluginState().files?.[fileId]?.phase === 'retrying')
      this.#setFileState(fileId, { phase: 'uploading' })
  }

  /**
   * At most every PROGRESS_INTERVAL_MS per file: every XHR tick would re-render the UI hundreds of times a
   * second, and on a busy machine those renders take CPU from the upload itself.
   */
  #emitProgress(fileId: string, job: Job, startedAt: number, total: number, force = false): void {
    const now = Date.now()
    if (!force && now - job.lastProgressEmit < PROGRESS_INTERVAL_MS) return
    job.lastProgressEmit = now
    const file = this.uppy.getFile(fileId)
    if (!file) return
    let bytesUploaded = 0
    for (const loaded of job.loaded.values()) bytesUploaded += loaded
    this.#markUploading(fileId)
    this.uppy.emit('upload-progress', file, {
      uploadStarted: startedAt,
      bytesUploaded: Math.min(bytesUploaded, total),
      bytesTotal: total,
    })
  }
}
