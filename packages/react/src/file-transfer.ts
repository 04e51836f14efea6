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
export type UpkitFilePhase =
  | 'queued'
  | 'uploading'
  | 'retrying'
  | 'pausing'
  | 'paused'
  | 'confirming'
  | 'done'
  | 'error'

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
  /** The server made (or handed back, when resuming) the upload: where the uploader remembers it. */
  created?(created: CreatedUpload): void
}

/** The file a transfer sends, and where to. */
export interface TransferFile {
  readonly blob: Blob
  readonly fileName: string
  /** The normalized MIME type sent to `create`. */
  readonly mimeType: string
  readonly call: RouteCall
  /**
   * An upload made by an earlier page load (upkit's upload id) to carry on: the server hands back its plan,
   * the bucket says which parts it has, and only the others are sent. Starts over when the server no longer
   * has it (expired, swept, cancelled).
   */
  readonly resumeUploadId?: string | undefined
  /** A small preview sent with `confirm` (base64), made while the bytes travel; `null` when there is none. */
  readonly thumbnail?: (() => Promise<string | null>) | undefined
}

/** `start` rejects with this when `pause` stopped the transfer; `start` again carries on. */
export class PausedError extends Error {
  override readonly name = 'PausedError'
  constructor() {
    super('The upload is paused.')
  }
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
  #cancelled = false
  /** Set by `pause`, cleared by the next `start`. */
  #pauseRequested = false
  /** While parts travel: stops them the way a pause should (see `#pauseParts`). */
  #pauseParts: (() => void) | null = null
  #resumeUploadId: string | null
  #lastProgressAt = 0
  #startedAt = 0

  constructor(file: TransferFile, context: TransferContext) {
    this.#file = file
    this.#context = context
    this.#resumeUploadId = file.resumeUploadId ?? null
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
    this.#pauseRequested = false
    const run = this.#run()
    this.#running = run.then(
      () => {},
      () => {},
    )
    try {
      const record = await run
      this.#confirmed = true
      return record
    } catch (error) {
      // Whatever stopped the parts after a pause (their aborts, or a failure meanwhile), carrying on retries it.
      if (this.#pauseRequested && !this.#cancelled) throw new PausedError()
      throw error
    }
  }

  /**
   * Stops sending without giving anything up: the upload stays on the server, the parts in the bucket stay there,
   * and `start` carries on from them. Parts already travelling are stopped only while the bytes they have sent add
   * up to at most one part (the least advanced first); the others finish, so a pause never costs more than one
   * part of bytes sent twice. Once every byte is in the bucket there is nothing left to pause: it confirms.
   */
  pause(): void {
    if (this.#pauseRequested || this.#transferred || this.#running === null) return
    this.#pauseRequested = true
    this.#context.setState({ phase: 'pausing' })
    if (this.#pauseParts) this.#pauseParts()
    else this.#controller.abort(new PausedError())
  }

  /** Stops the transfers, waits until they have stopped, then has the server drop the upload. */
  cancel(): void {
    this.#cancelled = true
    this.#controller.abort(new AbortedError())
    const running = this.#running
    void (async () => {
      await running
      this.discard()
    })()
  }

  /**
   * Stops for good in this page but keeps the upload on the server (and its parts in the bucket): the uploader
   * is going away (its component unmounted) and the journal lets a later page carry on.
   */
  halt(): void {
    this.#cancelled = true
    this.#controller.abort(new AbortedError())
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
    const resuming = this.#created !== null || this.#resumeUploadId !== null
    const fromEarlierPage = this.#resumeUploadId
    try {
      return await this.#transfer()
    } catch (error) {
      const gone =
        GONE_CODES.has(upkitCodeOf(error) ?? '') ||
        (error instanceof BucketHttpError && error.code === 'NoSuchUpload')
      if (!resuming || !gone || this.aborted) throw error
      // An upload an earlier page left may have been finished meanwhile: the sweeper confirms uploads whose
      // bytes all arrived. Sending the file again would store it twice.
      if (fromEarlierPage !== null && upkitCodeOf(error) === 'UPLOAD_NOT_PENDING') {
        const uploads = await this.#callApi(() => this.#context.api.list(this.#file.call))
        const finished = uploads.find((upload) => upload.id === fromEarlierPage)
        if (finished?.status === 'confirmed') return finished
      }
      // The upload we were resuming no longer exists (expired, swept, or failed): start a fresh one.
      this.discard()
      this.#reset()
      return this.#transfer()
    }
  }

  #reset(): void {
    this.#created = null
    this.#resumeUploadId = null
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
    // are resuming (in this page, or an upload an earlier page load made), and the bucket must say which parts
    // it has.
    const resumeUploadId = this.#resumeUploadId
    const fresh = this.#created === null && resumeUploadId === null
    if (this.#created === null) {
      const { route, input } = this.#file.call
      const created = await this.#callApi(() =>
        resumeUploadId !== null
          ? api.resume({ uploadId: resumeUploadId })
          : api.create({
              route,
              input,
              fileName: this.#file.fileName,
              size: blob.size,
              mimeType: this.#file.mimeType,
            }),
      )
      if (created.upload.size !== blob.size)
        throw new Error(`"${this.#file.fileName}" is not the file this upload was started with.`)
      this.#created = created
      this.#resumeUploadId = null
      this.#partUrls.add(created.signedParts)
      this.#context.created?.(created)
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
    let thumbnail = (await this.#file.thumbnail?.().catch(() => null)) ?? null
    try {
      return await this.#callApi(async () => {
        const uploadId = created.upload.id
        if (thumbnail === null) return api.confirm({ uploadId })
        try {
          return await api.confirm({ uploadId, thumbnail })
        } catch (error) {
          // The file is fine and still pending; only the preview was refused. A list without it beats no file.
          if (upkitCodeOf(error) !== 'THUMBNAIL_INVALID') throw error
          thumbnail = null
          return api.confirm({ uploadId })
        }
      })
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
    // Each part can be stopped on its own, so a pause stops some parts and lets others finish.
    const parts = new Map<number, { controller: AbortController; sending: boolean }>()
    this.#pauseParts = () => {
      const sending: { partNumber: number; sent: number; controller: AbortController }[] = []
      for (const [partNumber, part] of parts) {
        // Waiting for a slot or out a backoff: nothing of it travels, so nothing is lost.
        if (!part.sending) part.controller.abort(new PausedError())
        else
          sending.push({ partNumber, sent: this.#loaded.get(partNumber) ?? 0, controller: part.controller })
      }
      // The least advanced parts stop while what they sent adds up to at most one part: those bytes will be
      // sent again. The more advanced ones finish (soonest, since they have the least left).
      sending.sort((a, b) => a.sent - b.sent)
      let resent = 0
      for (const part of sending) {
        if (resent + part.sent > plan.partSize) break
        resent += part.sent
        part.controller.abort(new PausedError())
      }
    }
    let firstError: unknown = null
    try {
      await Promise.all(
        missing.map((partNumber) => {
          const controller = new AbortController()
          const stop = () => controller.abort(partsController.signal.reason)
          partsController.signal.addEventListener('abort', stop, { once: true })
          const part = { controller, sending: false }
          parts.set(partNumber, part)
          return this.#uploadPart(plan, partNumber, missing, controller.signal, (sending) => {
            part.sending = sending
            // A part that got its slot after the pause must not start.
            if (sending && this.#pauseRequested) throw new AbortedError()
          })
            .catch((error) => {
              if (this.#pauseRequested) return
              if (firstError === null && !(error instanceof AbortedError)) firstError = error
              stopParts()
            })
            .finally(() => {
              parts.delete(partNumber)
              partsController.signal.removeEventListener('abort', stop)
            })
        }),
      )
    } finally {
      this.#pauseParts = null
      fileSignal.removeEventListener('abort', stopParts)
    }
    if (fileSignal.aborted) throw new AbortedError()
    if (firstError !== null) throw firstError
    if (this.#pauseRequested && this.#etags.size < plan.partCount) throw new PausedError()
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
    onSending: (sending: boolean) => void,
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
        const response = await this.#limited(url.url, signal, async () => {
          onSending(true)
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
          }).finally(() => onSending(false))
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
          // A repeated Complete whose first answer was lost (or was a 500 though it completed) finds the upload
          // already gone, or, being signed with If-None-Match: *, the object it made at the key: 412. Confirm
          // checks the object either way. On a first Complete a 412 is a real refusal and fails the file.
          const done =
            attempts > 1 &&
            error instanceof BucketHttpError &&
            (error.code === 'NoSuchUpload' || error.status === 412)
          if (done) return
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
