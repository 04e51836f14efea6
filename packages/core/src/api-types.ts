import type { UpkitErrorCode } from './errors'
import type { ResolvedInlineImagePolicy } from './logo'
import type { FileDescription, ResolvedPolicy } from './policies'
import type { TransferPlan } from './transfer'

/**
 * The wire types of the uploads API, shared by the server (which produces them) and the browser (which consumes
 * them) so neither imports the other.
 */
export interface UploadRecord {
  readonly id: string
  /** The app's route the file was uploaded to (`taskAttachment`). */
  readonly route: string
  /** `cancelled`: stopped by its uploader; kept until every URL signed for it has expired, never confirmed. */
  readonly status: 'pending' | 'confirmed' | 'failed' | 'cancelled'
  readonly fileName: string
  readonly mimeType: string
  /** Bytes; a JSON number (exact up to 8 PiB, far above any policy). */
  readonly size: number
  readonly createdAt: string
  readonly confirmedAt: string | null
  /**
   * Where the small preview sent with `confirm` is served (`<paths.files><id>/thumbnail`, same authorization as
   * the file); `null` when there is none (not an image, or confirmed without one). Lists show it instead of
   * downloading the original.
   */
  readonly thumbnailUrl: string | null
  /** Who uploaded it, as the route's `authorize` said (`uploadedBy`); `null` when it said nothing. */
  readonly uploadedBy: string | null
}

/**
 * One route and its input, as the browser names them: `{ route: 'taskAttachment', input: { taskId } }`. A server's
 * routes give a union of these (one member per route), so a wrong route name or input is a compile error.
 */
export interface RouteCall {
  readonly route: string
  readonly input: unknown
}

/** The route call of one route name, out of a union of route calls. */
export type RouteCallOf<TCall extends RouteCall, TRoute extends TCall['route']> = Extract<
  TCall,
  { route: TRoute }
>

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

/** The most files one `createMany` or `confirmMany` call takes: a drop of more goes in several calls. */
export const MAX_BATCH_FILES = 100

/** Why one file of a batch call (`createMany`, `confirmMany`) was refused; the other files are not affected. */
export interface UploadFailure {
  readonly code: UpkitErrorCode
  /** Written for the person who uploaded the file, as a single call's error message would be. */
  readonly message: string
  /** `RATE_LIMITED`: whole seconds until the file may be created again. */
  readonly retryAfterSeconds?: number
}

/** One file's answer of `createMany`, in the order the files were sent. */
export type CreateManyResult =
  | { readonly ok: true; readonly created: CreatedUpload }
  | { readonly ok: false; readonly error: UploadFailure }

/** One file's answer of `confirmMany`, in the order the uploads were sent. */
export type ConfirmManyResult =
  | { readonly ok: true; readonly upload: UploadRecord }
  | { readonly ok: false; readonly error: UploadFailure }

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

/** A route's rules as the browser sees them (`uploads.policies`): enough to refuse a file when it is added. */
export type PublicRoutePolicy =
  | ({ readonly type: 'bucket' } & ResolvedPolicy)
  | ({ readonly type: 'inline' } & ResolvedInlineImagePolicy)

/** Bytes and files, as a quota counts them. */
export interface UsageAmount {
  readonly bytes: number
  readonly files: number
}

/** What `uploads.usage` answers: the quota a route call falls under (if any) and how full it is. */
export interface UploadUsage {
  /** The app's name for whose quota it is ("Acme"); "This workspace" when the app gave none. */
  readonly label: string
  /** CONFIRMED uploads. */
  readonly used: UsageAmount
  /** PENDING, unexpired uploads: reserved at `create` for their declared size. */
  readonly reserved: UsageAmount
  /** The quota; `null` for no quota at all, a `null` field for no limit on that measure. */
  readonly limit: { readonly bytes: number | null; readonly files: number | null } | null
}

/** What `uploads.inline.set` answers. */
export interface StoredInlineImage {
  /** Where the image is served, under its content hash (so it can be cached forever). */
  readonly url: string
  readonly hash: string
  readonly mimeType: string
  readonly width: number
  readonly height: number
}

/**
 * What a browser uploader needs from the server. `uploadApiFromTRPC(trpc.uploads)` (in `@upkit/react`) builds it
 * from a tRPC client, typed by the server's routes: `TCall` is the union of their route calls.
 */
export interface UploadApi<TCall extends RouteCall = RouteCall> {
  /** Every route's rules, fetched once: the browser refuses a file the server would refuse. */
  policies(): Promise<Record<string, PublicRoutePolicy>>
  create(input: TCall & { fileName: string; size: number; mimeType: string }): Promise<CreatedUpload>
  /**
   * `create` for 1 to 100 files of one route call in one round trip: one `authorize`, one transaction, the same
   * per-file checks, and one answer per file in order. A refused file (too large, wrong type, over `maxFiles` or
   * the quota, rate-limited) is `{ ok: false, error }` and the others go on.
   */
  createMany(input: TCall & { files: FileDescription[] }): Promise<CreateManyResult[]>
  /**
   * The caller's own PENDING, unexpired upload as `create` answered it, for a page that reloaded mid-upload: the
   * same key, plan and multipart upload id, but nothing signed (`signedPut: null`, `signedParts: []`): list the
   * parts already in the bucket, then sign only the missing ones. `UPLOAD_NOT_PENDING` once it is confirmed,
   * cancelled or failed; `UPLOAD_EXPIRED` after its expiry; `NOT_FOUND` for anyone but the person who created it.
   */
  resume(input: { uploadId: string }): Promise<CreatedUpload>
  sign(input: { uploadId: string; request: SignRequestInput }): Promise<SignedRequest>
  /** Signs many parts in one round trip: per-part signing calls dominate multipart time otherwise. */
  signParts(input: { uploadId: string; s3UploadId: string; partNumbers: number[] }): Promise<SignedPart[]>
  /**
   * `thumbnail`: an optional preview (base64 of a WebP, PNG or JPEG of at most 16 KiB and 256×256 pixels), checked
   * and stored with the confirmation, never changed afterwards. A refused one is `THUMBNAIL_INVALID` and leaves the
   * upload pending: confirm again without it.
   */
  confirm(input: { uploadId: string; thumbnail?: string }): Promise<UploadRecord>
  /**
   * `confirm` for 1 to 100 uploads in one round trip, with the same checks per upload and one answer per upload in
   * order: a missing object, a failing hook or another person's id fails only that entry.
   */
  confirmMany(input: { uploads: { uploadId: string; thumbnail?: string }[] }): Promise<ConfirmManyResult[]>
  cancel(input: { uploadId: string }): Promise<unknown>
  /** Confirmed uploads of a route and input, oldest first. */
  list(input: TCall): Promise<UploadRecord[]>
  /** The quota the route and input fall under, and how much of it is used and reserved. */
  usage(input: TCall): Promise<UploadUsage>
  /** A short-lived signed GET; `attachment` always downloads. */
  download(input: { uploadId: string }): Promise<{ url: string }>
  delete(input: { uploadId: string }): Promise<unknown>
  /** Inline routes: stores an image (base64) in the app's table; replaces the previous one. */
  setInline(input: TCall & { imageBase64: string }): Promise<StoredInlineImage>
  /** Inline routes: removes the stored image. */
  removeInline(input: TCall): Promise<unknown>
}
