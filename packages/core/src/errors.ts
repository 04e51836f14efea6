/**
 * The one map of upkit's domain error codes. Each code names the tRPC code it becomes at the procedure boundary
 * (the server converts `UpkitError` to `TRPCError` in exactly one place), so the browser can branch on
 * `error.data.upkitCode` while HTTP semantics stay right.
 */
export const UPKIT_ERROR_CODES = {
  UNAUTHENTICATED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  FILE_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FILE_EMPTY: 'BAD_REQUEST',
  FILE_TYPE_NOT_ALLOWED: 'UNSUPPORTED_MEDIA_TYPE',
  TOO_MANY_FILES: 'TOO_MANY_REQUESTS',
  INVALID_INPUT: 'BAD_REQUEST',
  UPLOAD_EXPIRED: 'PRECONDITION_FAILED',
  UPLOAD_NOT_PENDING: 'CONFLICT',
  OBJECT_MISSING: 'PRECONDITION_FAILED',
  OBJECT_SIZE_MISMATCH: 'PRECONDITION_FAILED',
  OBJECT_TYPE_MISMATCH: 'UNSUPPORTED_MEDIA_TYPE',
  IMAGE_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /** An inline image whose header is fine but whose data is cut off or damaged (checked by the server). */
  IMAGE_CORRUPT: 'UNPROCESSABLE_CONTENT',
  /** The app's `onConfirmed` hook failed: the upload is not confirmed and its object is removed. */
  HOOK_FAILED: 'INTERNAL_SERVER_ERROR',
  STORAGE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /**
   * The object in the bucket is no longer the one confirm checked (its ETag changed: a provider without conditional
   * writes let a replayed upload URL overwrite it). It is never served again; delete the upload.
   */
  OBJECT_CHANGED: 'CONFLICT',
  /** The tenant's storage quota (bytes or files) would be exceeded: final until something is deleted. */
  QUOTA_EXCEEDED: 'FORBIDDEN',
  /** Too many calls in the current window; `retryAfterSeconds` says when the next one is allowed. */
  RATE_LIMITED: 'TOO_MANY_REQUESTS',
  /**
   * The preview sent with `confirm` is not a WebP, PNG or JPEG of at most 16 KiB and 256×256 pixels, or is damaged.
   * Nothing was confirmed and the file itself is fine: confirm again without a thumbnail (or with a good one).
   */
  THUMBNAIL_INVALID: 'UNPROCESSABLE_CONTENT',
} as const

export type UpkitErrorCode = keyof typeof UPKIT_ERROR_CODES

/** The tRPC error code an upkit code maps to (a plain string here: core has no tRPC dependency). */
export type UpkitTransportCode = (typeof UPKIT_ERROR_CODES)[UpkitErrorCode]

/** A domain error with a stable code and a message written for the person who uploaded the file. */
export class UpkitError extends Error {
  override readonly name = 'UpkitError'
  readonly code: UpkitErrorCode
  /** `RATE_LIMITED`: whole seconds until the call may be made again (becomes `data.retryAfter`). */
  readonly retryAfterSeconds: number | undefined

  constructor(
    code: UpkitErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options)
    this.code = code
    this.retryAfterSeconds = options?.retryAfterSeconds
  }

  get transportCode(): UpkitTransportCode {
    return UPKIT_ERROR_CODES[this.code]
  }
}

export function isUpkitError(value: unknown): value is UpkitError {
  return value instanceof UpkitError
}

export function isUpkitErrorCode(value: unknown): value is UpkitErrorCode {
  return typeof value === 'string' && Object.hasOwn(UPKIT_ERROR_CODES, value)
}

/**
 * The upkit code of an error a client received: reads `data.upkitCode` of a tRPC client error (or of any object
 * carrying it). `null` for anything else. The server refuses to start when the host's error formatter would drop
 * `data.upkitCode`, so a missing code really means "not an upkit error".
 */
export function upkitCodeOf(error: unknown): UpkitErrorCode | null {
  if (typeof error !== 'object' || error === null) return null
  const data = (error as { data?: unknown }).data
  const code =
    typeof data === 'object' && data !== null ? (data as { upkitCode?: unknown }).upkitCode : undefined
  if (isUpkitErrorCode(code)) return code
  if (error instanceof UpkitError) return error.code
  return null
}
