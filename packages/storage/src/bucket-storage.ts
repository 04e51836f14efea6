import type { Readable } from 'node:stream'

/**
 * An HTTP request that someone without credentials (usually the browser) can send as is.
 * `headers` are the headers that were signed and so MUST be sent with exactly these values;
 * `Content-Length` may be signed too but is never listed, because browsers refuse to set it
 * and compute it from the body themselves (a different body length then fails the signature).
 */
export interface PresignedRequest {
  url: string
  method: 'GET' | 'PUT' | 'POST' | 'DELETE'
  headers: Record<string, string>
}

/**
 * User metadata stored with the object as `x-amz-meta-<name>` headers. Names must be lowercase
 * `[a-z0-9-]` and values printable ASCII: anything else is mangled differently by each provider,
 * so it is rejected up front instead.
 */
export type ObjectMetadata = Record<string, string>

export interface PresignPutInput {
  key: string
  contentType: string
  /** Exact body size in bytes. Signed, so the bucket answers 403 to any other size. */
  contentLength: number
  expiresInSeconds: number
  /** Signed and sent as headers; the client must send them (they are in `headers`). */
  metadata?: ObjectMetadata
}

export interface CreateMultipartUploadInput {
  key: string
  contentType: string
  metadata?: ObjectMetadata
}

export interface PresignCreateMultipartUploadInput extends CreateMultipartUploadInput {
  expiresInSeconds: number
}

export interface PresignUploadPartInput {
  key: string
  uploadId: string
  /** 1 to 10000. */
  partNumber: number
  /** Exact part size in bytes. Signed, so a bigger (or smaller) part is refused with 403. */
  contentLength: number
  expiresInSeconds: number
}

export interface MultipartUploadRef {
  key: string
  uploadId: string
}

export interface PresignMultipartInput extends MultipartUploadRef {
  expiresInSeconds: number
}

export interface CompletedPart {
  partNumber: number
  etag: string
}

export interface UploadedPart {
  partNumber: number
  etag: string
  size: number
}

export interface MultipartUploadInfo {
  key: string
  uploadId: string
  /** When the upload was created; undefined if the provider does not say. */
  initiated: Date | undefined
}

/**
 * One browser-driven S3 call to sign, as the server's handler for `@uppy/aws-s3`'s `signRequest`
 * hook sees it once it has mapped the hook's method/uploadId/partNumber to an operation.
 */
export interface PresignGetInput {
  key: string
  expiresInSeconds: number
  /** Overrides the stored Content-Disposition; see `contentDisposition`. */
  responseContentDisposition?: string
  /** Overrides the stored Content-Type. */
  responseContentType?: string
  /**
   * Overrides the stored Cache-Control, which the uploader could have set on its PUT: e.g. `private, no-store`, so
   * no shared cache keeps a file its owner may delete or lose access to.
   */
  responseCacheControl?: string
}

export interface ObjectHead {
  size: number
  contentType: string | undefined
  etag: string | undefined
  lastModified: Date | undefined
  /** As stored from the upload's request headers (S3 keeps and serves them); undefined when none was sent. */
  cacheControl: string | undefined
  contentEncoding: string | undefined
}

export interface ListedObject {
  key: string
  size: number
  lastModified: Date | undefined
}

export interface PutObjectInput {
  key: string
  body: Uint8Array | Readable
  contentType: string
  /** Required because S3 refuses streamed bodies of unknown length. */
  contentLength: number
}

export interface UploadPartInput extends MultipartUploadRef {
  /** 1 to 10000. */
  partNumber: number
  body: Uint8Array | Readable
  /** Required because S3 refuses streamed bodies of unknown length. */
  contentLength: number
}

export interface CorsRule {
  allowedOrigins: string[]
  allowedMethods: string[]
  allowedHeaders?: string[]
  exposeHeaders?: string[]
  maxAgeSeconds?: number
}

export interface EnsureBucketInput {
  /** Replaces the bucket's CORS rules when given; left untouched when omitted. */
  cors?: CorsRule[]
}

/**
 * What `ensureBucket` did about CORS. `unsupported`: the provider has no bucket CORS API (it answered 501
 * NotImplemented, as Backblaze B2, GCS interop and Swift's s3api do), so the rules must be set in its console or
 * native API; `message` says so, for the app to log. Not an error: the bucket itself is ready, and failing an app's
 * start over a setting made elsewhere would keep it down for nothing.
 */
export type EnsureBucketResult = { cors: 'applied' | 'unchanged' } | { cors: 'unsupported'; message: string }

/**
 * Everything the server needs from a bucket. Keys are always strings the server generated.
 * Reads of a missing object (`readRange`, `getObjectStream`) reject; `head` returns null instead.
 */
export interface BucketStorage {
  /** What and where the bucket is, without credentials (`s3 http://127.0.0.1:9000/uploads`), for health reports. */
  readonly describe: string
  /**
   * Single-request upload. Content-Type and Content-Length are signed, and so is `If-None-Match: *`: the bucket
   * refuses (412) a PUT to a key that already exists, so a replayed URL cannot replace an object once it is there.
   * Providers without conditional writes ignore it (see the README's security section).
   */
  presignPut(input: PresignPutInput): Promise<PresignedRequest>
  presignCreateMultipartUpload(input: PresignCreateMultipartUploadInput): Promise<PresignedRequest>
  presignUploadPart(input: PresignUploadPartInput): Promise<PresignedRequest>
  /** The client sends the usual `<CompleteMultipartUpload>` XML body; signed with `If-None-Match: *` like a PUT. */
  presignCompleteMultipartUpload(input: PresignMultipartInput): Promise<PresignedRequest>
  /** Signs the first page only (up to 1000 parts), as a signed URL cannot carry a later marker. */
  presignListParts(input: PresignMultipartInput): Promise<PresignedRequest>
  presignAbortMultipartUpload(input: PresignMultipartInput): Promise<PresignedRequest>

  createMultipartUpload(input: CreateMultipartUploadInput): Promise<{ uploadId: string }>
  /**
   * Server-side UploadPart, for tools that copy files themselves (`upkit migrate`); browsers use
   * `presignUploadPart`. `etag` is quoted as the bucket sent it: pass it as is to `completeMultipartUpload`.
   */
  uploadPart(input: UploadPartInput): Promise<{ etag: string }>
  completeMultipartUpload(
    input: MultipartUploadRef & { parts: CompletedPart[] },
  ): Promise<{ etag: string | undefined }>
  /** All parts uploaded so far, across pages, sorted by part number. */
  listParts(input: MultipartUploadRef): Promise<UploadedPart[]>
  /**
   * Aborts a multipart upload. One already gone (aborted or completed by someone else: a cancel racing the sweeper
   * of another instance) counts as aborted, so concurrent cleanups do not fail each other.
   */
  abortMultipartUpload(input: MultipartUploadRef): Promise<void>
  /** All in-progress multipart uploads (across pages), e.g. to abort stale ones. */
  listMultipartUploads(input?: { prefix?: string }): Promise<MultipartUploadInfo[]>

  presignGet(input: PresignGetInput): Promise<string>
  /** Null when the object does not exist. */
  head(key: string): Promise<ObjectHead | null>
  /**
   * Bytes `start..endInclusive`, fewer if the object is shorter, empty if it is shorter than `start`
   * (so a magic-byte check on an empty file sees no bytes instead of an error).
   */
  readRange(key: string, start: number, endInclusive: number): Promise<Uint8Array>
  /**
   * The object's head and its first `length` bytes (fewer if it is shorter) in one ranged GET, whose answer carries
   * the size (Content-Range), ETag and types a HEAD would: confirming an upload needs both, and one round trip to
   * the bucket instead of two. Null when the object does not exist.
   */
  readStart(key: string, length: number): Promise<{ head: ObjectHead; bytes: Uint8Array } | null>
  /**
   * `etag` is the bucket's answer, quoted; for a single PUT it is the hex MD5 of the bytes the bucket stored on
   * S3, R2 and MinIO (not with SSE-KMS), so comparing it with a locally computed MD5 verifies the copy without a
   * HEAD. Undefined when the provider sends none.
   */
  putObject(input: PutObjectInput): Promise<{ etag: string | undefined }>
  getObjectStream(key: string): Promise<Readable>
  /** Succeeds when the object is already gone. */
  deleteObject(key: string): Promise<void>
  /**
   * Sent in batches of 1000 (the S3 maximum), each with Content-MD5; where the provider has no DeleteObjects (501),
   * one DeleteObject per key instead. Rejects listing every key the bucket failed to delete.
   */
  deleteObjects(keys: readonly string[]): Promise<void>
  /**
   * Every object under `prefix`, across pages, in key order; with `startAfter`, only keys after it (S3 `StartAfter`),
   * so a scan stopped early resumes where it stopped. Pages are fetched as the iteration reaches them.
   */
  list(input: { prefix: string; startAfter?: string | undefined }): AsyncIterable<ListedObject>

  /** Resolves when the bucket exists and the credentials can reach it; rejects otherwise (health checks). */
  checkBucket(): Promise<void>
  /**
   * Creates the bucket if missing and sets CORS; safe to call on every boot. Resolves with what happened to CORS
   * (see `EnsureBucketResult`); rejects on any other failure (credentials, permissions, a malformed rule).
   */
  ensureBucket(input?: EnsureBucketInput): Promise<EnsureBucketResult>
}
