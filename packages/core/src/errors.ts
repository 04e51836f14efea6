/**
 * The one map of upkit's domain error codes. Each code names the tRPC code it becomes at the router boundary
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
  INVALID_INPUT: 'BAD_REQUEST',
  UPLOAD_EXPIRED: 'PRECONDITION_FAILED',
  UPLOAD_NOT_PENDING: 'CONFLICT',
  OBJECT_MISSING: 'PRECONDITION_FAILED',
  OBJECT_SIZE_MISMATCH: 'PRECONDITION_FAILED',
  OBJECT_TYPE_MISMATCH: 'UNSUPPORTED_MEDIA_TYPE',
  IMAGE_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  STORAGE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
} as const

export type UpkitErrorCode = keyof typeof UPKIT_ERROR_CODES

/** The tRPC error code an upkit code maps to (a plain string here: core has no tRPC dependency). */
export type UpkitTransportCode = (typeof UPKIT_ERROR_CODES)[UpkitErrorCode]

/** A domain error with a stable code and a message written for the person who uploaded the file. */
export class UpkitError extends Error {
  override readonly name = 'UpkitError'
  readonly code: UpkitErrorCode

  constructor(code: UpkitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }

  get transportCode(): UpkitTransportCode {
    return UPKIT_ERROR_CODES[this.code]
  }
}

export function isUpkitError(value: unknown): value is UpkitError {
  return value instanceof UpkitError
}
