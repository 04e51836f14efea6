import {
  type CreatedUpload,
  type RouteCall,
  type SignedRequest,
  type SignRequestInput,
  type UploadApi,
  type UploadRecord,
  upkitCodeOf,
} from '@upkit/core'
import { AbortedError, type RetryPolicy, withRetry } from './backoff'
import { type BucketResponse, sendToBucket } from './bucket-request'
import { type Limiter, type MultipartPlan, originLimiter, planPartRange, resumeState } from './part-plan'
import { buildCompleteMultipartXml, parseListParts, parseS3Error } from './s3-xml'
import { isFresh, PartUrlCache, type SignedUrl, toSignedUrl } from './signed-url-cache'
import { BucketHttpError, classifyApiError, classifyBucketError } from './transfer-errors'

/** Where a file stands, beyond Uppy's own progress: what the hooks turn into the status people see. */
export type UpkitFilePhase = 'queued' | 'uploading' | 'retrying' | 'confirming' | 'done' | 'error'

/** What `UpkitUploader` keeps per file in its plugin state. */
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
  /**
   * After an error: whether trying again can succeed. `false` when the server refused the file itself (too
   * large, wrong type, content that is not what it claims, no access): a Retry button would only fail again.
   */
  readonly retryable: boolean
}

/** The settings a transfer runs with (the uploader's options with its defaults applied). */
export interface TransferSettings {
  readonly signBatchSize: number
  readonly retry: RetryPolicy
  readonly stallTimeoutMs: number
  readonly progressIntervalMs: number
  readonly urlExpiryMarginMs: number
}

/** What a transfer needs from the uploader that runs it. */
export interface TransferContext {
  readonly api: UploadApi<RouteCall>
  readonly settings: TransferSettings
  /** The uploader's own limit on requests in flight (its `partConcurrency`), shared by all its files. */
  readonly limiter: Limiter
  /** The file's state as the UI sees it. */
  getState(): UpkitFileState | undefined
  setState(patch: Partial<UpkitFileState>): void
  /** Reports progress (Uppy's `upload-progress`). */
  progress(progress: { uploadStarted: number; bytesUploaded: number; bytesTotal: number }): void
}

/** The file a transfer sends, and where to. */
export interface TransferFile {
  readonly blob: Blob
  readonly fileName: string
  /** The normalized MIME type sent to `create`. */
  readonly mimeType: string
  readonly call: RouteCall
}

/** Server answers meaning "this upload is gone": a resumed upload starts over instead of failing. */
const GONE_CODES = new Set(['NOT_FOUND', 'UPLOAD_NOT_PENDING', 'UPLOAD_EXPIRED'])

/**
 * Confirm answers about the object (or the row) that no retry of confirm can fix: only a new upload can. Any
 * other failure (the API unreachable for longer than the retry policy, a 5xx) leaves the object in place, so
 * a retry just confirms again. `HOOK_FAILED`: the app's `onConfirmed` failed, so the server failed the upload and
 * removed its object; a retry sends the file again as a new upload.
 */
const RESTART_CODES = new Set([
  'OBJECT_MISSING',
  'OBJECT_SIZE_MISMATCH',
  'UPLOAD_NOT_PENDING',
  'UPLOAD_EXPIRED',
  'HOOK_FAILED',
])

/** Refusals of the file itself (or of the person): trying the same file again cannot succeed. */
const FINAL_CODES = new Set([
  'FILE_EMPTY',
  'FILE_TOO_LARGE',
  'FILE_TYPE_NOT_ALLOWED',
  'OBJECT_TYPE_MISMATCH',
  'INVALID_INPUT',
  'FORBIDDEN',
  // Until the person (or an admin) deletes files: the server's message says how much is left.
  'QUOTA_EXCEEDED',
])

/** Whether a failed upload is worth a Retry. */
export function isRetryable(error: unknown): boolean {
  return !FINAL_CODES.has(upkitCodeOf(error) ?? '')
}

/**
 * One file's upload, from `create` to `confirm`, and everything kept between its attempts: the server's upload,
 * the parts the bucket acknowledged, signed URLs, bytes sent. `start` again after a failure resumes (or only
 * confirms, or starts over when the server refused the object); `cancel` stops it for good.
 */
export class FileTransfer {
  readonly #file: TransferFile
  readonly #context: TransferContext
  #controller = new AbortController()
  #running: Promise<void> | null = null
  #created: CreatedUpload | null = null
  /** Parts the bucket has acknowledged in this session, with their ETags. */
  readonly #etags = new Map<number, string>()
  readonly #partUrls: PartUrlCache
  /** Bytes sent per part (part 1 for a single PUT). */
  readonly #loaded = new Map<number, number>()
  /**
   * Every byte is in the bucket (the single PUT or Complete succeeded): a retry only confirms, since sending
   * again would repeat the whole file, and ListParts on a completed multipart upload finds nothing.
   */
  #transferred = false
  /** The server refused the object itself (confirm said so): only a new upload can fix that. */
  #restart = false
  #confirmed = false
  #lastProgressAt = 0
  #startedAt = 0

  constructor(file: TransferFile, context: TransferContext) {
    this.#file = file
    this.#context = context
    this.#partUrls = new PartUrlCache({
      batchSize: context.settings.signBatchSize,
      expiryMarginMs: context.settings.urlExpiryMarginMs,
      signParts: (partNumbers) => {
        const created = this.#createdOrThrow()
        const s3UploadId = created.s3UploadId
        if (s3UploadId === null) throw new Error('A single PUT has no parts to sign.')
        return this.#callApi(() =>
          context.api.signParts({ uploadId: created.upload.id, s3UploadId, partNumbers }),
        )
      },
    })
  }

  /** Whether the next `start` must be a new transfer: the server refused this one's object. */
  get needsRestart(): boolean {
    return this.#restart
  }

  /** Whether the current attempt was cancelled (its failure is not an error to show). */
  get aborted(): boolean {
    return this.#controller.signal.aborted
  }

  /** Runs (or resumes) the upload; resolves with the confirmed record. Rejects with `AbortedError` on cancel. */
  async start(): Promise<UploadRecord> {
    this.#controller = new AbortController()
    const run = this.#run()
    this.#running = run.then(
      () => {},
      () => {},
    )
    const record = await run
    this.#confirmed = true
    return record
  }

  /** Stops the transfers, waits until they have stopped, then has the server drop the upload. */
  cancel(): void {
    this.#controller.abort(new AbortedError())
    const running = this.#running
    void (async () => {
      await running
      this.discard()
    })()
  }

  /** Has the server drop this upload (its row and any object or multipart upload) unless it was confirmed. */
  discard(): void {
    const created = this.#created
    if (created && !this.#confirmed)
      void this.#context.api.cancel({ uploadId: created.upload.id }).catch(() => {})
  }

  async #run(): Promise<UploadRecord> {
    this.#startedAt = Date.now()
    this.#context.setState({ phase: 'uploading', startedAt: this.#startedAt, resumedBytes: 0 })
    const resuming = this.#created !== null
    try {
      return await this.#transfer()
    } catch (error) {
      const gone =
        GONE_CODES.has(upkitCodeOf(error) ?? '') ||
        (error instanceof BucketHttpError && error.code === 'NoSuchUpload')
      if (!resuming || !gone || this.aborted) throw error
      // The upload we were resuming no longer exists (expired, swept, or failed): start a fresh one.
      this.discard()
      this.#reset()
      return this.#transfer()
    }
  }

  #reset(): void {
    this.#created = null
    this.#restart = false
    this.#transferred = false
    this.#etags.clear()
    this.#partUrls.clear()
    this.#loaded.clear()
    this.#context.setState({ resumedBytes: 0 })
  }

  #createdOrThrow(): CreatedUpload {
    if (!this.#created) throw new Error('The upload was not created.')
    return this.#created
  }

  async #transfer(): Promise<UploadRecord> {
    const signal = this.#controller.signal
    const { api } = this.#context
    const { blob } = this.#file
    // Fresh: create answered with the multipart upload already made and the first requests signed. Otherwise we
    // are resuming, and the bucket must say which parts it has.
    const fresh = this.#created === null
    if (this.#created === null) {
      const { route, input } = this.#file.call
      const created = await this.#callApi(() =>
        api.create({
          route,
          input,
          fileName: this.#file.fileName,
          size: blob.size,
          mimeType: this.#file.mimeType,
        }),
      )
      this.#created = created
      this.#partUrls.add(created.signedParts)
    }
    const created = this.#created
    this.#context.setState({ uploadId: created.upload.id })
    if (signal.aborted) throw new AbortedError()

    if (!this.#transferred) {
      if (created.transfer.type === 'single') {
        await this.#putSingle(fresh && created.signedPut ? toSignedUrl(created.signedPut) : undefined)
      } else {
        await this.#putMultipart(created.transfer, fresh)
      }
      this.#transferred = true
    }
    this.#loaded.clear()
    this.#loaded.set(1, blob.size)
    this.#emitProgress(true)
    this.#context.setState({ phase: 'confirming' })
    try {
      return await this.#callApi(() => api.confirm({ uploadId: created.upload.id }))
    } catch (error) {
      // A refused object (size mismatch, missing) or a failed row: only a new upload can fix that.
      if (!signal.aborted && RESTART_CODES.has(upkitCodeOf(error) ?? '')) this.#restart = true
      throw error
    }
  }

  async #putSingle(signedPut: SignedUrl | undefined): Promise<void> {
    const signal = this.#controller.signal
    const { blob, fileName } = this.#file
    let url = signedPut
    await this.#withBucketRetry(
      async ({ resign }) => {
        if (resign || !isFresh(url, this.#context.settings.urlExpiryMarginMs)) {
          url = toSignedUrl(await this.#sign({ method: 'PUT' }))
        }
        const signed = url
        try {
          await this.#limited(signed.url, signal, () => {
            this.#loaded.set(1, 0)
            return this.#send({
              method: 'PUT',
              url: signed,
              body: blob,
              signal,
              what: `"${fileName}"`,
              onProgress: (loaded) => {
                this.#loaded.set(1, loaded)
                this.#emitProgress()
              },
            })
          })
        } catch (error) {
          // The PUT is signed with If-None-Match: *, so 412 means an object is already at the key: an earlier
          // attempt whose answer was lost, or a resumed upload. Confirm checks it (and refuses anything else).
          if (error instanceof BucketHttpError && error.status === 412) return
          throw error
        }
      },
      () => url?.expiresAt ?? null,
      signal,
    )
  }

  async #putMultipart(plan: MultipartPlan, fresh: boolean): Promise<void> {
    const fileSignal = this.#controller.signal
    const { fileName } = this.#file
    const s3UploadId = this.#createdOrThrow().s3UploadId
    if (s3UploadId === null)
      throw new Error(`The server did not start the multipart upload of "${fileName}".`)
    if (!fresh) await this.#resumeFromBucket(plan, s3UploadId)
    const missing: number[] = []
    for (let n = 1; n <= plan.partCount; n++) if (!this.#etags.has(n)) missing.push(n)
    this.#emitProgress(true)

    // One failed part (after its retries) stops the others: the file has failed, and a retry resumes.
    const partsController = new AbortController()
    const stopParts = () => partsController.abort(new AbortedError())
    fileSignal.addEventListener('abort', stopParts, { once: true })
    // Complete's URL is signed while the parts travel, so the last part is followed by Complete at once instead
    // of by a signing round trip. If it has expired by then (a slow upload), it is simply signed again.
    const completeSigned = this.#sign({ method: 'POST', uploadId: s3UploadId }).then(
      toSignedUrl,
      () => undefined,
    )
    let firstError: unknown = null
    await Promise.all(
      missing.map((partNumber) =>
        this.#uploadPart(plan, partNumber, missing, partsController.signal).catch((error) => {
          if (firstError === null && !(error instanceof AbortedError)) firstError = error
          stopParts()
        }),
      ),
    )
    fileSignal.removeEventListener('abort', stopParts)
    if (fileSignal.aborted) throw new AbortedError()
    if (firstError !== null) throw firstError
    await this.#complete(s3UploadId, completeSigned)
  }

  /** Resuming (after a retry or a failure): the bucket, not our memory, says which parts arrived. */
  async #resumeFromBucket(plan: MultipartPlan, s3UploadId: string): Promise<void> {
    const signal = this.#controller.signal
    let url: SignedUrl | undefined
    const response: BucketResponse = await this.#withBucketRetry(
      async ({ resign }) => {
        if (resign || !isFresh(url, this.#context.settings.urlExpiryMarginMs))
          url = toSignedUrl(await this.#sign({ method: 'GET', uploadId: s3UploadId }))
        return this.#send({ method: 'GET', url, signal, what: `"${this.#file.fileName}"` })
      },
      () => url?.expiresAt ?? null,
      signal,
    )
    const { done } = resumeState(plan, parseListParts(response.text))
    this.#etags.clear()
    this.#loaded.clear()
    let resumedBytes = 0
    for (const part of done) {
      this.#etags.set(part.partNumber, part.etag)
      const { start, end } = planPartRange(plan, part.partNumber)
      this.#loaded.set(part.partNumber, end - start)
      resumedBytes += end - start
    }
    this.#context.setState({ resumedBytes })
  }

  async #uploadPart(
    plan: MultipartPlan,
    partNumber: number,
    pending: readonly number[],
    signal: AbortSignal,
  ): Promise<void> {
    const { start, end } = planPartRange(plan, partNumber)
    const body = this.#file.blob.slice(start, end)
    let used: SignedUrl | undefined
    await this.#withBucketRetry(
      async ({ resign }) => {
        if (resign) this.#partUrls.forget(partNumber)
        const url = await this.#partUrls.get(
          partNumber,
          pending.filter((n) => !this.#etags.has(n)),
        )
        used = url
        // The slot is taken for the transfer only: a part waiting out a backoff must not hold a connection.
        const response = await this.#limited(url.url, signal, () => {
          this.#loaded.set(partNumber, 0)
          return this.#send({
            method: 'PUT',
            url,
            body,
            signal,
            what: `part ${partNumber} of "${this.#file.fileName}"`,
            onProgress: (loaded) => {
              this.#loaded.set(partNumber, loaded)
              this.#emitProgress()
            },
          })
        })
        if (!response.etag) {
          throw new Error(
            `The storage did not expose the ETag of part ${partNumber}; its CORS rules must list ETag in ExposeHeaders.`,
          )
        }
        this.#etags.set(partNumber, response.etag)
        this.#loaded.set(partNumber, end - start)
        this.#emitProgress()
      },
      () => used?.expiresAt ?? null,
      signal,
    )
  }

  async #complete(s3UploadId: string, prefetched: Promise<SignedUrl | undefined>): Promise<void> {
    const signal = this.#controller.signal
    const what = `completing "${this.#file.fileName}"`
    const parts = [...this.#etags].map(([partNumber, etag]) => ({ partNumber, etag }))
    let attempts = 0
    await this.#withBucketRetry(
      async ({ resign }) => {
        attempts++
        const early = attempts === 1 && !resign ? await prefetched : undefined
        const url = isFresh(early, this.#context.settings.urlExpiryMarginMs)
          ? early
          : toSignedUrl(await this.#sign({ method: 'POST', uploadId: s3UploadId }))
        try {
          const response = await this.#send({
            method: 'POST',
            url,
            body: buildCompleteMultipartXml(parts),
            signal,
            what,
          })
          // S3 may answer 200 and still report an error in the body (the connection is kept alive meanwhile).
          if (parseS3Error(response.text)) throw new BucketHttpError(500, response.text, what)
        } catch (error) {
          // A repeated Complete whose first answer was lost finds the upload already gone; confirm decides.
          if (attempts > 1 && error instanceof BucketHttpError && error.code === 'NoSuchUpload') return
          throw error
        }
      },
      () => null,
      signal,
    )
  }

  #sign(request: Omit<SignRequestInput, 'key'>): Promise<SignedRequest> {
    const created = this.#createdOrThrow()
    return this.#callApi(() =>
      this.#context.api.sign({ uploadId: created.upload.id, request: { ...request, key: created.key } }),
    )
  }

  /**
   * Runs `task` (one transfer) within the uploader's `partConcurrency` and the page-wide connection limit of
   * the bucket's origin, so two uploaders on one page never open more requests than the browser will serve
   * (a request queued inside the browser would run its stall timer while waiting).
   */
  #limited<T>(url: string, signal: AbortSignal, task: () => Promise<T>): Promise<T> {
    return this.#context.limiter.run(() => originLimiter(url).run(task, signal), signal)
  }

  #send(request: {
    method: 'GET' | 'PUT' | 'POST'
    url: SignedUrl
    body?: Blob | string
    signal: AbortSignal
    what: string
    onProgress?: (loaded: number) => void
  }): Promise<BucketResponse> {
    const { url, ...rest } = request
    return sendToBucket({
      ...rest,
      url: url.url,
      headers: url.headers,
      stallTimeoutMs: this.#context.settings.stallTimeoutMs,
    })
  }

  #withBucketRetry<T>(
    attempt: (options: { resign: boolean }) => Promise<T>,
    expiresAt: () => number | null,
    signal: AbortSignal,
  ): Promise<T> {
    return withRetry(
      async (options) => {
        const result = await attempt(options)
        this.#markUploading()
        return result
      },
      (error) => classifyBucketError(error, { expiresAt: expiresAt(), now: Date.now() }),
      { policy: this.#context.settings.retry, signal, onRetry: () => this.#markRetrying() },
    )
  }

  #callApi<T>(call: () => Promise<T>): Promise<T> {
    return withRetry(
      async () => {
        const result = await call()
        this.#markUploading()
        return result
      },
      classifyApiError,
      {
        policy: this.#context.settings.retry,
        signal: this.#controller.signal,
        onRetry: () => this.#markRetrying(),
      },
    )
  }

  #markRetrying(): void {
    this.#context.setState({ phase: 'retrying' })
  }

  #markUploading(): void {
    if (this.#context.getState()?.phase === 'retrying') this.#context.setState({ phase: 'uploading' })
  }

  /**
   * At most every `progressIntervalMs`: every XHR tick would re-render the UI hundreds of times a second, and on
   * a busy machine those renders take CPU from the upload itself.
   */
  #emitProgress(force = false): void {
    const now = Date.now()
    if (!force && now - this.#lastProgressAt < this.#context.settings.progressIntervalMs) return
    this.#lastProgressAt = now
    let bytesUploaded = 0
    for (const loaded of this.#loaded.values()) bytesUploaded += loaded
    this.#markUploading()
    const bytesTotal = this.#file.blob.size
    this.#context.progress({
      uploadStarted: this.#startedAt,
      bytesUploaded: Math.min(bytesUploaded, bytesTotal),
      bytesTotal,
    })
  }
}
