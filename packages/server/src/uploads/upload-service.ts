import { randomUUID } from 'node:crypto'
import { TRPCError } from '@trpc/server'
import {
  assertFileAllowed,
  buildObjectKey,
  bytesMatchType,
  CREATE_SIGNED_PARTS,
  type CreatedUpload,
  IMAGE_TYPES,
  isUpkitError,
  normalizeMimeType,
  partContentLength,
  planTransfer,
  type SignedPart,
  type SignedRequest,
  type SignRequestInput,
  SNIFF_BYTES,
  type TransferPlan,
  UpkitError,
  type UploadRecord,
} from '@upkit/core'
import {
  abortMultipartUploads,
  type BucketStorage,
  contentDisposition,
  type ObjectHead,
} from '@upkit/storage'
import type { UploadLimitsService } from '../limits/upload-limits'
import { type AnyBucketRoute, type AnyRoutes, type Metadata, routeOfType } from '../routes/define-routes'
import type { JsonValue, UploadRow, UploadStore } from '../store/upload-store'
import {
  authorizeCall,
  bucketRoute,
  findOwnUpload,
  NOT_FOUND_MESSAGE,
  parseInput,
  toUploadRecord,
} from './upload-access'

export interface UploadServiceOptions {
  /**
   * Prepended to every object key. Default `'uploads/'`: the sweeper lists and deletes only under it, so a
   * bucket shared with other data is safe.
   */
  readonly keyPrefix?: string
  /**
   * How long an upload may stay PENDING before the sweeper removes its row, object and multipart upload.
   * Default 24 h: long enough to resume a multi-gigabyte upload after a laptop sleeps, short enough that
   * abandoned parts do not pile up in the bucket.
   */
  readonly pendingTtlMs?: number
  /**
   * Lifetime of each signed upload request. Default 300 s: the browser signs right before sending, so minutes
   * suffice, and a leaked URL dies quickly. Expired URLs are simply signed again.
   */
  readonly signedUrlTtlSeconds?: number
  /** Lifetime of signed download URLs. Default 60 s: they are followed at once, never stored. */
  readonly downloadUrlTtlSeconds?: number
  /** Clock, for tests. Default `() => new Date()`. */
  readonly now?: () => Date
}

export interface UploadServiceDeps {
  readonly storage: BucketStorage
  readonly store: UploadStore<unknown>
  readonly routes: AnyRoutes
  /** Quotas and rate limits (`createUpkit` builds them); none when absent. */
  readonly limits?: UploadLimitsService
}

/** A route call as `uploads.create` receives it. */
export interface CreateCall {
  readonly route: string
  readonly input: unknown
  readonly fileName: string
  readonly size: number
  readonly mimeType: string
}

export function createUploadService(deps: UploadServiceDeps, options: UploadServiceOptions = {}) {
  const { store, storage, routes } = deps
  const keyPrefix = options.keyPrefix ?? 'uploads/'
  const pendingTtlMs = options.pendingTtlMs ?? 24 * 60 * 60 * 1000
  const signedUrlTtlSeconds = options.signedUrlTtlSeconds ?? 300
  const downloadUrlTtlSeconds = options.downloadUrlTtlSeconds ?? 60
  const now = options.now ?? (() => new Date())

  function planOf(row: UploadRow): TransferPlan {
    if (row.partSize === null) return { type: 'single', size: row.size }
    return {
      type: 'multipart',
      size: row.size,
      partSize: row.partSize,
      partCount: Math.ceil(row.size / row.partSize),
    }
  }

  /** The caller's own upload, still PENDING and unexpired; `key`, when given, must be its key. */
  async function findSignable(ctx: unknown, uploadId: string, key?: string): Promise<UploadRow> {
    const { row } = await findOwnUpload(store, routes, ctx, uploadId)
    if (key !== undefined && row.key !== key)
      throw new UpkitError('FORBIDDEN', 'That key does not belong to this upload.')
    if (row.status !== 'PENDING') {
      throw new UpkitError('UPLOAD_NOT_PENDING', `"${row.fileName}" is already ${row.status.toLowerCase()}.`)
    }
    if (row.expiresAt.getTime() < now().getTime()) {
      throw new UpkitError('UPLOAD_EXPIRED', `The upload of "${row.fileName}" expired; start it again.`)
    }
    return row
  }

  function wrongTransferError(row: UploadRow, plan: TransferPlan): UpkitError {
    const expected = plan.type === 'single' ? 'a single PUT' : 'a multipart upload'
    return new UpkitError('INVALID_INPUT', `"${row.fileName}" must be sent as ${expected}.`)
  }

  function partLength(
    row: Pick<UploadRow, 'fileName'>,
    plan: TransferPlan & { type: 'multipart' },
    partNumber: number,
  ): number {
    const length = partContentLength(plan, partNumber)
    if (length === null)
      throw new UpkitError(
        'INVALID_INPUT',
        `Part numbers of "${row.fileName}" go from 1 to ${plan.partCount}.`,
      )
    return length
  }

  /**
   * Keeps the row naming the multipart upload in use. `create` records the one it made, so upkit's own uploader
   * never causes a write here; a client that creates its own (the stock `@uppy/aws-s3` plugin signs a POST Create)
   * has it recorded on its first signing. Cancel and the sweeper do not rely on it: they abort every multipart
   * upload under the key, which also catches ids no row ever saw.
   */
  async function recordMultipartUploadId(row: UploadRow, s3UploadId: string): Promise<void> {
    if (row.multipartUploadId === s3UploadId) return
    await store.setMultipartUploadId(row.id, s3UploadId)
    // A client that makes its own (the stock @uppy/aws-s3 plugin does) leaves the one `create` started unused:
    // abort it now rather than keep its parts until the sweeper, which would still abort it should this fail.
    if (row.multipartUploadId !== null) {
      await storage.abortMultipartUpload({ key: row.key, uploadId: row.multipartUploadId }).catch(() => {})
    }
  }

  /** Presigned part URLs, each with its exact Content-Length; the lengths are checked before anything is signed. */
  async function presignParts(
    row: Pick<UploadRow, 'fileName' | 'key'>,
    plan: TransferPlan & { type: 'multipart' },
    s3UploadId: string,
    partNumbers: readonly number[],
  ): Promise<SignedPart[]> {
    const lengths = partNumbers.map((partNumber) => partLength(row, plan, partNumber))
    return Promise.all(
      partNumbers.map(async (partNumber, i) => {
        const signed = await storage.presignUploadPart({
          key: row.key,
          uploadId: s3UploadId,
          partNumber,
          contentLength: lengths[i] as number,
          expiresInSeconds: signedUrlTtlSeconds,
        })
        return { partNumber, url: signed.url, headers: signed.headers }
      }),
    )
  }

  /**
   * The row first and only while not CONFIRMED: a confirm racing this either wins (and the file stays) or finds a
   * CANCELLED row it cannot confirm. Resolves false when the row was confirmed (or is gone).
   */
  async function cancelRow(row: UploadRow): Promise<boolean> {
    const lastSignedUrlExpiry = new Date(now().getTime() + signedUrlTtlSeconds * 1000)
    if (!(await store.markCancelled(row.id, lastSignedUrlExpiry))) return false
    // If these fail, the sweeper aborts what no PENDING row names and deletes the row's object with it.
    await abortMultipartUploads(storage, row.key)
    // Unconditional, so it replaces whatever a PUT stored before; a conditional PUT arriving later gets 412.
    await storage.putObject({
      key: row.key,
      body: new Uint8Array(0),
      contentType: 'application/octet-stream',
      contentLength: 0,
    })
    return true
  }

  async function markFailed(row: UploadRow, reason: string): Promise<void> {
    // The object goes first: a FAILED row without an object is harmless, an object nobody points at is not.
    await storage.deleteObject(row.key)
    await store.markFailed(row.id, reason)
  }

  /** What the route's hooks get: the stored input and metadata (what `authorize` said at create), never the key. */
  function hookArgs(row: UploadRow, ctx: unknown, tx: unknown) {
    const { input, tenantId, ownerId } = row
    return {
      upload: toUploadRecord(row),
      input,
      metadata: row.metadata as Metadata,
      tenantId,
      ownerId,
      ctx,
      tx,
    }
  }

  /**
   * Checks the object against the row: present, declared size and type, no Content-Encoding, first bytes matching
   * the type. Resolves the HEAD it checked, whose ETag confirm records.
   */
  async function checkObject(row: UploadRow, route: AnyBucketRoute): Promise<ObjectHead> {
    // Both reads at once: confirm sits between the last byte and the file showing up, so one round trip less
    // is felt on every upload. A read that raced an object still being completed is simply made again.
    const reading = route.policy.contentCheck ? storage.readRange(row.key, 0, SNIFF_BYTES - 1) : null
    reading?.catch(() => {})
    const head = await storage.head(row.key)
    if (!head) {
      throw new UpkitError(
        'OBJECT_MISSING',
        `"${row.fileName}" has not arrived in storage; send it before confirming.`,
      )
    }
    if (head.size !== row.size) {
      const reason = `"${row.fileName}" arrived with ${head.size} bytes instead of ${row.size}.`
      await markFailed(row, reason)
      throw new UpkitError('OBJECT_SIZE_MISMATCH', reason)
    }
    if (head.contentType !== undefined && normalizeMimeType(head.contentType) !== row.mimeType) {
      const reason = `"${row.fileName}" arrived as ${head.contentType} instead of ${row.mimeType}.`
      await markFailed(row, reason)
      throw new UpkitError('OBJECT_TYPE_MISMATCH', reason)
    }
    // S3 stores a Content-Encoding sent along an upload (the signature does not cover it) and serves it with every
    // download: `gzip` would make browsers decode bytes nobody checked in that form. No uploader needs one.
    if (head.contentEncoding !== undefined && head.contentEncoding.trim() !== '') {
      const reason = `"${row.fileName}" arrived with Content-Encoding ${head.contentEncoding}; send it without one.`
      await markFailed(row, reason)
      throw new UpkitError('OBJECT_TYPE_MISMATCH', reason)
    }
    if (reading) {
      const firstBytes = await reading.catch(() => storage.readRange(row.key, 0, SNIFF_BYTES - 1))
      if (!bytesMatchType(row.mimeType, firstBytes)) {
        const reason = `The content of "${row.fileName}" is not ${row.mimeType}.`
        await markFailed(row, reason)
        throw new UpkitError('OBJECT_TYPE_MISMATCH', reason)
      }
    }
    return head
  }

  /**
   * PENDING -> CONFIRMED with the route's `onConfirmed` in the same store transaction, once `checkObject` passed.
   * Conditional on an unexpired PENDING row, so two concurrent confirms (the browser's and the sweeper's) cannot
   * both flip it and the hook runs once; a row that a cancel or the sweeper is removing (they delete the row before
   * the object) is never confirmed. Resolves null when another call won or the row left PENDING. A failing hook
   * marks the row FAILED and deletes the object.
   */
  async function flipConfirmed(
    row: UploadRow,
    route: AnyBucketRoute,
    head: ObjectHead,
    ctx: unknown,
  ): Promise<UploadRow | null> {
    const onConfirmed = route.config.onConfirmed
    try {
      return await store.confirm(
        row.id,
        now(),
        async (tx, flipped) => {
          await onConfirmed?.(hookArgs(flipped, ctx, tx))
        },
        head.etag ?? null,
      )
    } catch (error) {
      const reason = `The app could not take "${row.fileName}".`
      await markFailed(row, reason)
      if (isUpkitError(error) || error instanceof TRPCError) throw error
      throw new UpkitError('HOOK_FAILED', `${reason} Upload it again.`, { cause: error })
    }
  }

  return {
    /**
     * Confirms, without a request, a PENDING upload whose object the sweeper found complete in the bucket (the
     * browser closed before calling `confirm`): the same checks as `confirm` (size, type, magic bytes, no
     * Content-Encoding, the ETag recorded) and the route's `onConfirmed` with `ctx: null`, in the same conditional
     * flip, so a browser confirming at the same moment gets the same record and the hook runs once. `authorize` is
     * not run: there is no caller, and the row records what it decided at create. A missing object leaves the row
     * alone; a failed check marks it FAILED, as `confirm` would. Resolves what happened.
     */
    async confirmComplete(row: UploadRow): Promise<'confirmed' | 'failed' | 'skipped'> {
      const route = routeOfType(routes, row.route, 'bucket')
      if (!route) return 'skipped'
      if (row.status !== 'PENDING' || row.expiresAt.getTime() <= now().getTime()) return 'skipped'
      let head: ObjectHead
      try {
        head = await checkObject(row, route)
      } catch (error) {
        if (isUpkitError(error) && error.code === 'OBJECT_MISSING') return 'skipped'
        if (isUpkitError(error)) return 'failed'
        throw error
      }
      try {
        return (await flipConfirmed(row, route, head, null)) ? 'confirmed' : 'skipped'
      } catch (error) {
        if (isUpkitError(error) || error instanceof TRPCError) return 'failed'
        throw error
      }
    },

    async create(ctx: unknown, call: CreateCall): Promise<CreatedUpload> {
      const route = bucketRoute(routes, call.route)
      const mimeType = normalizeMimeType(call.mimeType)
      assertFileAllowed(route.policy, { fileName: call.fileName, size: call.size, mimeType })
      const input = parseInput(route, call.input)
      const auth = await authorizeCall(route, ctx, input)
      const scope = { route: call.route, tenantId: auth.tenantId, ownerId: auth.ownerId }
      const quota = await deps.limits?.beforeCreate(
        { tenantId: auth.tenantId, route: call.route, uploadedBy: auth.uploadedBy, ctx },
        { fileName: call.fileName, size: call.size },
      )
      const pending = await store.countPending({ ...scope, uploadedBy: auth.uploadedBy }, now())
      if (pending >= route.policy.maxFiles) {
        throw new UpkitError(
          'TOO_MANY_FILES',
          `At most ${route.policy.maxFiles} ${route.policy.label} can upload at once; wait for some to finish.`,
        )
      }

      const id = randomUUID()
      const key = buildObjectKey({
        prefix: keyPrefix,
        tenantId: auth.tenantId,
        route: call.route,
        uploadId: id,
      })
      const transfer = planTransfer(call.size)
      const expiresAt = new Date(now().getTime() + pendingTtlMs)
      // The multipart upload is created here rather than by the browser: it saves the browser a signing round
      // trip and an S3 round trip, and the row names it from its first moment, so a cancel or the sweeper always
      // finds it to abort. It comes before the row so the row is written once; should that write fail, it is
      // aborted below (and the sweeper aborts any multipart upload no PENDING row names).
      const s3UploadId =
        transfer.type === 'multipart'
          ? (await storage.createMultipartUpload({ key, contentType: mimeType })).uploadId
          : null
      const writeRow = store.insert(
        {
          id,
          ...scope,
          uploadedBy: auth.uploadedBy,
          key,
          fileName: call.fileName,
          mimeType,
          size: call.size,
          partSize: transfer.type === 'multipart' ? transfer.partSize : null,
          multipartUploadId: s3UploadId,
          input: input as JsonValue,
          metadata: auth.metadata as JsonValue,
          expiresAt,
        },
        quota,
      )
      // The first requests are signed with the answer so the browser's first byte needs no `sign` call.
      const signFirst = async (): Promise<Pick<CreatedUpload, 'signedPut' | 'signedParts'>> => {
        if (transfer.type === 'single') {
          const signed = await storage.presignPut({
            key,
            contentType: mimeType,
            contentLength: transfer.size,
            expiresInSeconds: signedUrlTtlSeconds,
          })
          return { signedPut: { ...signed, key }, signedParts: [] }
        }
        const first = Array.from(
          { length: Math.min(CREATE_SIGNED_PARTS, transfer.partCount) },
          (_, i) => i + 1,
        )
        return {
          signedPut: null,
          signedParts: await presignParts(
            { fileName: call.fileName, key },
            transfer,
            s3UploadId as string,
            first,
          ),
        }
      }
      // Both settle before any cleanup, so a row still being written cannot outlive the cleanup.
      const [row, signed] = await Promise.allSettled([writeRow, signFirst()])
      if (row.status === 'rejected' || signed.status === 'rejected') {
        if (s3UploadId !== null)
          await storage.abortMultipartUpload({ key, uploadId: s3UploadId }).catch(() => {})
        await store.deleteUnconfirmed(id).catch(() => {})
        throw row.status === 'rejected' ? row.reason : (signed as PromiseRejectedResult).reason
      }
      return {
        upload: toUploadRecord(row.value),
        key,
        transfer,
        expiresAt: expiresAt.toISOString(),
        s3UploadId,
        ...signed.value,
      }
    },

    /**
     * The `CreatedUpload` of the caller's own PENDING, unexpired upload, so a browser that reloaded mid-upload can
     * go on where it stopped: the plan is rebuilt from the row (the part size `create` chose), with the multipart
     * upload `create` started. Nothing is signed here: the browser asks ListParts first and signs fresh URLs for
     * the missing parts only (`sign`/`signParts`), so URLs signed now would mostly go unused.
     *
     * Only the person who created it may resume it: a colleague in the same tenant passes `authorize` but gets
     * NOT_FOUND, like a stranger, because the browser that remembered the id is the creator's.
     */
    async resume(ctx: unknown, uploadId: string): Promise<CreatedUpload> {
      const { row, auth } = await findOwnUpload(store, routes, ctx, uploadId)
      if (auth.uploadedBy !== row.uploadedBy) throw new UpkitError('NOT_FOUND', NOT_FOUND_MESSAGE)
      if (row.status !== 'PENDING') {
        throw new UpkitError(
          'UPLOAD_NOT_PENDING',
          `"${row.fileName}" is already ${row.status.toLowerCase()}.`,
        )
      }
      if (row.expiresAt.getTime() <= now().getTime()) {
        throw new UpkitError('UPLOAD_EXPIRED', `The upload of "${row.fileName}" expired; start it again.`)
      }
      return {
        upload: toUploadRecord(row),
        key: row.key,
        transfer: planOf(row),
        expiresAt: row.expiresAt.toISOString(),
        s3UploadId: row.multipartUploadId,
        signedPut: null,
        signedParts: [],
      }
    },

    /**
     * Signs one browser-to-bucket request, only for the caller's own PENDING upload, with the exact
     * Content-Length (of the file or of part N) and Content-Type signed so the bucket refuses anything else.
     */
    async sign(ctx: unknown, uploadId: string, request: SignRequestInput): Promise<SignedRequest> {
      const row = await findSignable(ctx, uploadId, request.key)
      const plan = planOf(row)
      const key = row.key
      const expiresInSeconds = signedUrlTtlSeconds
      const wrongTransfer = () => wrongTransferError(row, plan)

      if (request.uploadId === undefined) {
        if (request.method === 'PUT') {
          if (plan.type !== 'single') throw wrongTransfer()
          const signed = await storage.presignPut({
            key,
            contentType: row.mimeType,
            contentLength: plan.size,
            expiresInSeconds,
          })
          return { ...signed, key }
        }
        if (request.method === 'POST') {
          if (plan.type !== 'multipart') throw wrongTransfer()
          const signed = await storage.presignCreateMultipartUpload({
            key,
            contentType: row.mimeType,
            expiresInSeconds,
          })
          return { ...signed, key }
        }
        throw new UpkitError(
          'INVALID_INPUT',
          `A ${request.method} without a multipart upload id cannot be signed.`,
        )
      }

      if (plan.type !== 'multipart') throw wrongTransfer()
      const ref = { key, uploadId: request.uploadId, expiresInSeconds }
      await recordMultipartUploadId(row, request.uploadId)
      switch (request.method) {
        case 'PUT': {
          const partNumber = request.partNumber ?? Number.NaN
          const signed = await storage.presignUploadPart({
            ...ref,
            partNumber,
            contentLength: partLength(row, plan, partNumber),
          })
          return { ...signed, key }
        }
        case 'GET':
          return { ...(await storage.presignListParts(ref)), key }
        case 'POST':
          return { ...(await storage.presignCompleteMultipartUpload(ref)), key }
        case 'DELETE':
          return { ...(await storage.presignAbortMultipartUpload(ref)), key }
      }
    },

    /** Signs up to 100 parts in one call, each with its exact Content-Length. */
    async signParts(
      ctx: unknown,
      uploadId: string,
      s3UploadId: string,
      partNumbers: readonly number[],
    ): Promise<SignedPart[]> {
      const row = await findSignable(ctx, uploadId)
      await deps.limits?.beforeSignParts(row)
      const plan = planOf(row)
      if (plan.type !== 'multipart') throw wrongTransferError(row, plan)
      // Out-of-range part numbers are refused before the row records anything.
      for (const partNumber of partNumbers) partLength(row, plan, partNumber)
      await recordMultipartUploadId(row, s3UploadId)
      return presignParts(row, plan, s3UploadId, partNumbers)
    },

    /**
     * PENDING -> CONFIRMED only after the object is in the bucket with the declared size and type, and its first
     * bytes match the type (when the route checks content), together with the route's `onConfirmed` in one store
     * transaction. On a mismatch, or when the hook fails, the object is deleted and the row marked FAILED.
     * Idempotent.
     */
    async confirm(ctx: unknown, uploadId: string): Promise<UploadRecord> {
      const { row, route } = await findOwnUpload(store, routes, ctx, uploadId)
      if (row.status === 'CONFIRMED') return toUploadRecord(row)
      if (row.status === 'FAILED') {
        throw new UpkitError(
          'UPLOAD_NOT_PENDING',
          `The upload of "${row.fileName}" failed: ${row.failureReason ?? 'unknown reason'}`,
        )
      }
      // Checked before the object: a mismatch would delete it, and its placeholder is what keeps the key taken.
      if (row.status === 'CANCELLED') {
        throw new UpkitError('UPLOAD_NOT_PENDING', `The upload of "${row.fileName}" was cancelled.`)
      }
      // An expired row belongs to the sweeper, which may be deleting its object right now.
      if (row.expiresAt.getTime() <= now().getTime()) {
        throw new UpkitError('UPLOAD_EXPIRED', `The upload of "${row.fileName}" expired; start it again.`)
      }
      const head = await checkObject(row, route)
      const confirmed = await flipConfirmed(row, route, head, ctx)
      if (confirmed) return toUploadRecord(confirmed)
      const current = await store.find(row.id)
      if (current?.status !== 'CONFIRMED') {
        throw new UpkitError(
          'UPLOAD_NOT_PENDING',
          `The upload of "${row.fileName}" was cancelled or expired.`,
        )
      }
      return toUploadRecord(current)
    },

    /**
     * Stops a PENDING upload: the row becomes CANCELLED, its multipart uploads are aborted and an empty placeholder
     * replaces any object. URLs signed before the cancel stay valid for `signedUrlTtlSeconds`; every one carries
     * `If-None-Match: *`, so the placeholder makes the bucket refuse them (412) rather than store an object only the
     * sweeper would find. The sweeper removes the row and placeholder once those URLs have expired.
     */
    async cancel(ctx: unknown, uploadId: string): Promise<void> {
      const { row } = await findOwnUpload(store, routes, ctx, uploadId)
      const alreadyUploaded = () =>
        new UpkitError('UPLOAD_NOT_PENDING', `"${row.fileName}" is already uploaded; delete it instead.`)
      if (row.status === 'CONFIRMED') throw alreadyUploaded()
      if (!(await cancelRow(row))) throw alreadyUploaded()
    },

    /** Confirmed uploads of one route and input (the route's `authorize` says whose), oldest first. */
    async list(ctx: unknown, call: { route: string; input: unknown }): Promise<UploadRecord[]> {
      const route = bucketRoute(routes, call.route)
      const auth = await authorizeCall(route, ctx, parseInput(route, call.input))
      const rows = await store.listConfirmed({
        route: call.route,
        tenantId: auth.tenantId,
        ownerId: auth.ownerId,
      })
      return rows.map(toUploadRecord)
    },

    /**
     * A short-lived signed GET under the file's original name, with its recorded (verified) Content-Type.
     * `attachment` always downloads; `view` shows images inline when the route checked their magic bytes, and
     * downloads everything else.
     */
    async downloadUrl(
      ctx: unknown,
      uploadId: string,
      mode: 'attachment' | 'view' = 'attachment',
    ): Promise<string> {
      const { row, route } = await findOwnUpload(store, routes, ctx, uploadId)
      if (row.status !== 'CONFIRMED') throw new UpkitError('NOT_FOUND', 'This upload does not exist.')
      // Where the bucket did not refuse a replayed upload URL (no conditional writes), the object may no longer be
      // the one confirm checked. Such an upload is quarantined: kept (with its row, so the app's links and
      // `onDeleted` still work when someone deletes it) but never served. Rows confirmed before ETags were
      // recorded have none and are served as before.
      if (row.etag !== null) {
        const head = await storage.head(row.key)
        if (head?.etag !== row.etag) {
          throw new UpkitError(
            'OBJECT_CHANGED',
            `"${row.fileName}" was changed in storage after it was checked, so it is not served; delete it and upload it again.`,
          )
        }
      }
      // A bucket cannot send `X-Content-Type-Options: nosniff`, so nothing but a verified image is served under a
      // type a browser would render: everything else is an `application/octet-stream` attachment.
      const verifiedImage =
        route.policy.contentCheck && (IMAGE_TYPES as readonly string[]).includes(row.mimeType)
      const inline = mode === 'view' && verifiedImage
      return storage.presignGet({
        key: row.key,
        expiresInSeconds: downloadUrlTtlSeconds,
        responseContentDisposition: contentDisposition(inline ? 'inline' : 'attachment', row.fileName),
        responseContentType: verifiedImage ? row.mimeType : 'application/octet-stream',
        // Overrides whatever Cache-Control the upload's PUT stored (unsigned, so the uploader chose it): only the
        // signed-in browser keeps the file, and not beyond the URL's lifetime.
        responseCacheControl: `private, max-age=${downloadUrlTtlSeconds}`,
      })
    },

    /**
     * Removes the row (with the route's `onDeleted` in the same transaction) first, then the object: a confirmed
     * row never points at a missing object.
     */
    async remove(ctx: unknown, uploadId: string): Promise<void> {
      const { row, route } = await findOwnUpload(store, routes, ctx, uploadId)
      // An unconfirmed upload may still have live signed URLs: it is cancelled, which keeps its key taken.
      if (row.status !== 'CONFIRMED' && (await cancelRow(row))) return
      const onDeleted = route.config.onDeleted
      await store.delete(row.id, async (tx, deleted) => {
        if (deleted.status !== 'CONFIRMED') return
        await onDeleted?.(hookArgs(deleted, ctx, tx))
      })
      await abortMultipartUploads(storage, row.key)
      // If this fails the object is an orphan, which the sweeper removes.
      await storage.deleteObject(row.key)
    },
  }
}

export type UploadService = ReturnType<typeof createUploadService>
