import { describe, expect, it } from 'vitest'
import { isRetryable } from './file-transfer'
import {
  BucketHttpError,
  classifyApiError,
  classifyBucketError,
  NetworkError,
  presignedUrlExpiresAt,
  StalledError,
} from './transfer-errors'

const s3Error = (code: string, message: string) =>
  `<Error><Code>${code}</Code><Message>${message}</Message></Error>`
const at = (expiresAt: number | null, now: number) => ({ expiresAt, now })

describe('presignedUrlExpiresAt', () => {
  it('adds X-Amz-Expires to X-Amz-Date', () => {
    const url =
      'http://127.0.0.1:9000/upkit/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20260102T030405Z&X-Amz-Expires=300'
    expect(presignedUrlExpiresAt(url)).toBe(Date.UTC(2026, 0, 2, 3, 4, 5) + 300_000)
    expect(presignedUrlExpiresAt('http://x/y')).toBeNull()
    expect(presignedUrlExpiresAt('not a url')).toBeNull()
  })
})

describe('classifyBucketError', () => {
  it('retries network errors, stalls, 5xx, 429 and 408', () => {
    for (const error of [
      new NetworkError('refused'),
      new StalledError('stalled'),
      new BucketHttpError(0, '', 'x'),
      new BucketHttpError(500, s3Error('InternalError', 'oops'), 'x'),
      new BucketHttpError(503, s3Error('SlowDown', 'slow'), 'x'),
      new BucketHttpError(429, '', 'x'),
      new BucketHttpError(408, '', 'x'),
    ]) {
      expect(classifyBucketError(error, at(null, 0))).toEqual({ action: 'retry' })
    }
  })

  it('re-signs an expired URL: by message, or AccessDenied after the URL expiry', () => {
    expect(
      classifyBucketError(
        new BucketHttpError(403, s3Error('AccessDenied', 'Request has expired'), 'x'),
        at(null, 0),
      ),
    ).toEqual({ action: 'resign' })
    const denied = new BucketHttpError(403, s3Error('AccessDenied', 'Access Denied'), 'x')
    expect(classifyBucketError(denied, at(1000, 1000))).toEqual({ action: 'resign' })
    expect(classifyBucketError(denied, at(1000, 999))).toEqual({ action: 'fail', error: denied })
  })

  it('fails fast on other 4xx with the storage’s words in the message', () => {
    const error = new BucketHttpError(
      403,
      s3Error('SignatureDoesNotMatch', 'The signature does not match'),
      'part 2 of "a.bin"',
    )
    expect(classifyBucketError(error, at(null, 0))).toEqual({ action: 'fail', error })
    expect(error.message).toBe(
      'The storage refused part 2 of "a.bin" (HTTP 403, SignatureDoesNotMatch: The signature does not match).',
    )
    expect(classifyBucketError(new BucketHttpError(400, '', 'x'), at(null, 0)).action).toBe('fail')
    expect(
      classifyBucketError(new BucketHttpError(404, s3Error('NoSuchUpload', 'gone'), 'x'), at(null, 0)).action,
    ).toBe('fail')
  })
})

describe('classifyApiError', () => {
  const trpcError = (httpStatus: number | undefined, message = 'm') =>
    Object.assign(new Error(message), {
      name: 'TRPCClientError',
      data: httpStatus === undefined ? undefined : { httpStatus },
    })

  it('retries when the server did not answer, answered 5xx or 429', () => {
    expect(classifyApiError(trpcError(undefined)).action).toBe('retry')
    expect(classifyApiError(new TypeError('Failed to fetch')).action).toBe('retry')
    expect(classifyApiError(trpcError(503)).action).toBe('retry')
    expect(classifyApiError(trpcError(429)).action).toBe('retry')
  })

  it('retries a rate limit no sooner than the server’s retryAfter', () => {
    const limited = Object.assign(trpcError(429), {
      data: { httpStatus: 429, upkitCode: 'RATE_LIMITED', retryAfter: 12 },
    })
    expect(classifyApiError(limited)).toEqual({ action: 'retry', afterMs: 12_000 })
  })

  it('fails on a quota refusal, and a Retry is not offered', () => {
    const quota = Object.assign(trpcError(403, 'Acme has 3.2 GiB of its 5 GiB left.'), {
      data: { httpStatus: 403, upkitCode: 'QUOTA_EXCEEDED' },
    })
    expect(classifyApiError(quota)).toEqual({ action: 'fail', error: quota })
    expect(isRetryable(quota)).toBe(false)
  })

  it('fails on the server’s refusals, keeping its message', () => {
    const tooLarge = trpcError(413, '"x" is 6 GiB; attachments can be at most 5 GiB.')
    expect(classifyApiError(tooLarge)).toEqual({ action: 'fail', error: tooLarge })
    expect(classifyApiError(trpcError(404)).action).toBe('fail')
    expect(classifyApiError(new Error('a bug')).action).toBe('fail')
  })
})
