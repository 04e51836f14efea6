import { upkitCodeOf } from '@upkit/core'
import type { RetryDecision } from './backoff'
import { parseS3Error } from './s3-xml'

/** The request never got an HTTP answer: connection refused or reset, DNS, CORS failure, offline. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError'
}

/**
 * The API accepted a call and did not answer it in time (`uploadApiFromTRPC`'s `timeoutMs`): a server stuck on a
 * database connection, a proxy that lost the answer. Retried like a lost connection.
 */
export class ApiTimeoutError extends Error {
  override readonly name = 'ApiTimeoutError'
}

/** No byte moved for too long: the connection is presumed dead (a half-open socket never errors by itself). */
export class StalledError extends Error {
  override readonly name = 'StalledError'
}

/** The bucket answered with an error status. */
export class BucketHttpError extends Error {
  override readonly name = 'BucketHttpError'
  readonly status: number
  /** S3's error code (`AccessDenied`, `NoSuchUpload`, ...), '' when the body had none. */
  readonly code: string
  readonly s3Message: string

  constructor(status: number, body: string, what: string) {
    const parsed = parseS3Error(body)
    const code = parsed?.code ?? ''
    const s3Message = parsed?.message ?? ''
    const detail = [code, s3Message].filter((s) => s !== '').join(': ')
    super(`The storage refused ${what} (HTTP ${status}${detail ? `, ${detail}` : ''}).`)
    this.status = status
    this.code = code
    this.s3Message = s3Message
  }
}

/**
 * When a SigV4 presigned URL stops working (X-Amz-Date + X-Amz-Expires), in ms since the epoch; null when the
 * URL is not presigned that way.
 */
export function presignedUrlExpiresAt(url: string): number | null {
  let params: URLSearchParams
  try {
    params = new URL(url).searchParams
  } catch {
    return null
  }
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(params.get('X-Amz-Date') ?? '')
  const expires = Number(params.get('X-Amz-Expires'))
  if (!date || !Number.isFinite(expires)) return null
  const [, y, mo, d, h, mi, s] = date.map(Number) as [number, number, number, number, number, number, number]
  return Date.UTC(y, mo - 1, d, h, mi, s) + expires * 1000
}

const RETRYABLE_STATUSES = new Set([408, 429, 500, 502, 503, 504])

/**
 * Decides what a failed bucket request deserves. `expiresAt` is when its signed URL expires: an AccessDenied
 * after that moment is an expired signature (re-sign), before it a real refusal (fail at once).
 */
export function classifyBucketError(
  error: unknown,
  options: { expiresAt: number | null; now: number },
): RetryDecision {
  if (error instanceof NetworkError || error instanceof StalledError) return { action: 'retry' }
  if (error instanceof BucketHttpError) {
    if (error.status === 0) return { action: 'retry' }
    if (RETRYABLE_STATUSES.has(error.status) || error.status >= 500) return { action: 'retry' }
    if (error.status === 403) {
      const expired =
        /expired/i.test(error.s3Message) ||
        error.code === 'ExpiredToken' ||
        (error.code === 'AccessDenied' && options.expiresAt !== null && options.now >= options.expiresAt)
      if (expired) return { action: 'resign' }
    }
    return { action: 'fail', error }
  }
  return { action: 'fail', error: error instanceof Error ? error : new Error(String(error)) }
}

interface ApiErrorShape {
  readonly message?: unknown
  readonly data?: { readonly httpStatus?: unknown; readonly retryAfter?: unknown } | null
}

/** The server's `data.retryAfter` (seconds) in ms; 1 s when it sent none, so a limit is never hammered. */
function retryAfterMs(error: object): number {
  const seconds = (error as ApiErrorShape).data?.retryAfter
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1000
}

/**
 * Decides what a failed API call deserves: the server's own refusals (4xx) are final and carry a message
 * written for people; no answer at all, 5xx and 429 are worth retrying.
 */
export function classifyApiError(error: unknown): RetryDecision {
  if (typeof error !== 'object' || error === null) return { action: 'fail', error: new Error(String(error)) }
  // An upkit code is the server's considered answer: the same call would get it again (HOOK_FAILED is a 500 whose
  // upload the server already failed). Only "busy" answers are worth the same call later.
  const code = upkitCodeOf(error)
  // A rate limit says when the next call is allowed: retrying sooner would only be refused again.
  if (code === 'RATE_LIMITED') return { action: 'retry', afterMs: retryAfterMs(error) }
  if (code !== null && code !== 'STORAGE_UNAVAILABLE' && code !== 'TOO_MANY_FILES')
    return { action: 'fail', error: error as Error }
  const status = (error as ApiErrorShape).data?.httpStatus
  if (typeof status === 'number') {
    if (status >= 500 || status === 429 || status === 408) return { action: 'retry' }
    return { action: 'fail', error: error as Error }
  }
  // A tRPC client error without data never reached a procedure: the network or the server process failed.
  if (
    (error as Error).name === 'TRPCClientError' ||
    error instanceof TypeError ||
    error instanceof NetworkError ||
    error instanceof ApiTimeoutError
  ) {
    return { action: 'retry' }
  }
  return { action: 'fail', error: error instanceof Error ? error : new Error(String(error)) }
}
