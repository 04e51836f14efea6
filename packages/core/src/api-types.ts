import type { FileKind } from './policies'
import type { TransferPlan } from './transfer'

/**
 * The wire types of the uploads API, shared by the server (which produces them) and the browser (which consumes
 * them) so neither imports the other.
 */
export interface UploadRecord {
  readonly id: string
  readonly taskId: string | null
  readonly kind: FileKind
  readonly status: 'pending' | 'confirmed' | 'failed'
  readonly fileName: string
  readonly mimeType: string
  /** Bytes; a JSON number (exact up to 8 PiB, far above any policy). */
  readonly size: number
  readonly createdAt: string
  readonly confirmedAt: string | null
}

export interface CreatedUpload {
  readonly upload: UploadRecord
  /** The server-generated object key; the browser only echoes it back when signing. */
  readonly key: string
  readonly transfer: TransferPlan
  readonly expiresAt: string
  /**
   * Multipart plans: the bucket's multipart upload id. The server creates the multipart upload itself (a small
   * S3 call carrying no file bytes) and records it before answering, so the browser saves two round trips and a
   * cancel at any moment finds it to abort. `null` for a single PUT.
   */
  readonly s3UploadId: string | null
  /** Single-PUT plans: the signed PUT of the whole file, so the first byte leaves without a `sign` call. */
  readonly signedPut: SignedRequest | null
  /**
   * Multipart plans: signed URLs of the first parts (up to `CREATE_SIGNED_PARTS`, which covers every file up to
   * 1 GiB); later parts, and any URL that expires, go through `signParts`. Empty for a single PUT.
   */
  readonly signedParts: readonly SignedPart[]
}

/** An HTTP request the browser sends as is: `headers` were signed and must be sent with exactly these values. */
export interface SignedRequest {
  readonly url: string
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE'
  readonly headers: Record<string, string>
  /** The key the object must have (`@uppy/aws-s3` honours it on PUT and Create). */
  readonly key: string
}

/** One S3 request in the shape of `@uppy/aws-s3` 6.x's `signRequest` hook. */
export interface SignRequestInput {
  readonly method: 'PUT' | 'POST' | 'GET' | 'DELETE'
  readonly key: string
  /** The bucket's multipart upload id (not upkit's upload id). */
  readonly uploadId?: string | undefined
  readonly partNumber?: number | undefined
}

export interface SignedPart {
  readonly partNumber: number
  readonly url: string
  readonly headers: Record<string, string>
}

/**
 * What a browser uploader needs from the server; a tRPC client satisfies it with one-line adapters
 * (`create: (input) => trpc.uploads.create.mutate(input)`, ...).
 */
export interface UploadApi {
  create(input: {
    taskId: string
    fileName: string
    size: number
    mimeType: string
    kind: FileKind
  }): Promise<CreatedUpload>
  sign(input: { uploadId: string; request: SignRequestInput }): Promise<SignedRequest>
  /** Signs many parts in one round trip: per-part signing calls dominate multipart time otherwise. */
  signParts(input: { uploadId: string; s3UploadId: string; partNumbers: number[] }): Promise<SignedPart[]>
  confirm(input: { uploadId: string }): Promise<UploadRecord>
  cancel(input: { uploadId: string }): Promise<unknown>
}
