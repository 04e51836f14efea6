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
