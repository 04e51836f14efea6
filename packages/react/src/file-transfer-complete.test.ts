import type { CreatedUpload, RouteCall, UploadApi, UploadRecord } from '@upkit/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FileTransfer, type UpkitFileState } from './file-transfer'
import { Limiter } from './part-plan'

/**
 * A CompleteMultipartUpload the bucket carried out but answered with an error (S3's documented 500 "may have
 * succeeded", or the answer lost on the way): the uploader sends Complete again, and whatever a bucket says to a
 * repeat of a finished Complete must lead to confirm, never to a failed file or to the bytes sent again.
 */

type Answer = { status: number; etag?: string; text?: string } | 'network-error'
interface Sent {
  readonly method: string
  readonly url: string
}

let bucket: (request: Sent) => Answer
let sent: Sent[]

/** Just what `sendToBucket` uses of XMLHttpRequest; answers on the next tick, after the body "arrived". */
class FakeXhr {
  upload: { onprogress: ((event: { loaded: number }) => void) | null } = { onprogress: null }
  onprogress: (() => void) | null = null
  onerror: (() => void) | null = null
  onload: (() => void) | null = null
  status = 0
  responseText = ''
  #request: Sent = { method: '', url: '' }
  #etag: string | null = null

  open(method: string, url: string): void {
    this.#request = { method, url }
  }
  setRequestHeader(): void {}
  getResponseHeader(name: string): string | null {
    return name.toLowerCase() === 'etag' ? this.#etag : null
  }
  abort(): void {}
  send(): void {
    sent.push(this.#request)
    setTimeout(() => {
      const answer = bucket(this.#request)
      if (answer === 'network-error') return this.onerror?.()
      this.status = answer.status
      this.responseText = answer.text ?? ''
      this.#etag = answer.etag ?? null
      this.onload?.()
    }, 1)
  }
}

const original = globalThis.XMLHttpRequest
beforeEach(() => {
  sent = []
  ;(globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = FakeXhr
})
afterEach(() => {
  ;(globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = original
})

const SIZE = 10
const record = (status: 'pending' | 'confirmed'): UploadRecord => ({
  id: 'upload-1',
  route: 'taskAttachment',
  status,
  fileName: 'movie.bin',
  mimeType: 'application/octet-stream',
  size: SIZE,
  createdAt: new Date(0).toISOString(),
  confirmedAt: status === 'confirmed' ? new Date(0).toISOString() : null,
  uploadedBy: null,
  thumbnailUrl: null,
})

/** Two parts of 5 bytes, both signed with create; every call recorded by name. */
function fakeApi() {
  const calls: string[] = []
  const created: CreatedUpload = {
    upload: record('pending'),
    key: 'key-1',
    transfer: { type: 'multipart', size: SIZE, partSize: 5, partCount: 2 },
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    s3UploadId: 'mpu-1',
    signedPut: null,
    signedParts: [1, 2].map((partNumber) => ({
      partNumber,
      url: `http://bucket.test/key-1?partNumber=${partNumber}&uploadId=mpu-1`,
      headers: {},
    })),
  }
  const api = {
    create: async () => {
      calls.push('create')
      return created
    },
    sign: async (input: { request: { method: 'POST'; key: string; uploadId?: string } }) => {
      calls.push('sign')
      const { key, method, uploadId } = input.request
      return { url: `http://bucket.test/${key}?uploadId=${uploadId}`, method, headers: {}, key }
    },
    signParts: async () => {
      throw new Error('every part was signed with create')
    },
    confirm: async () => {
      calls.push('confirm')
      return record('confirmed')
    },
    cancel: async () => {
      calls.push('cancel')
      return null
    },
  }
  return { api: api as unknown as UploadApi<RouteCall>, calls }
}

function transferWith(api: UploadApi<RouteCall>) {
  let state: UpkitFileState | undefined
  return new FileTransfer(
    {
      blob: new Blob(['0123456789']),
      fileName: 'movie.bin',
      mimeType: 'application/octet-stream',
      call: { route: 'taskAttachment', input: {} },
    },
    {
      api,
      settings: {
        signBatchSize: 10,
        // Milliseconds, so a test spends no time in backoff.
        retry: { baseDelayMs: 1, maxDelayMs: 2, maxElapsedMs: 1_000 },
        stallTimeoutMs: 5_000,
        progressIntervalMs: 0,
        urlExpiryMarginMs: 0,
      },
      limiter: new Limiter(6),
      getState: () => state,
      setState: (patch) => {
        state = { ...(state as UpkitFileState), ...patch }
      },
      progress: () => {},
    },
  )
}

const internalError = {
  status: 500,
  text: '<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>',
}

/** Parts succeed; the first Complete is answered 500 (it completed); later ones get `repeat`. */
function bucketAnsweringRepeatWith(repeat: Answer) {
  let completes = 0
  bucket = (request) => {
    if (request.method === 'PUT') return { status: 200, etag: `"part-${request.url.length}"` }
    completes++
    return completes === 1 ? internalError : repeat
  }
}

const completes = () => sent.filter((request) => request.method === 'POST').length
const parts = () => sent.filter((request) => request.method === 'PUT').length

describe('a Complete that completed but was answered with an error', () => {
  it.each([
    [
      'NoSuchUpload (the upload is gone: S3, local-s3)',
      { status: 404, text: '<Error><Code>NoSuchUpload</Code></Error>' },
    ],
    // Complete is signed with If-None-Match: *, and the object it made is now at the key.
    [
      '412 PreconditionFailed (the conditional write now finds the object)',
      { status: 412, text: '<Error><Code>PreconditionFailed</Code></Error>' },
    ],
    [
      '200 (a bucket that answers a repeated Complete as the first)',
      { status: 200, text: '<CompleteMultipartUploadResult/>' },
    ],
  ] as const)('is sent again, and a repeat answered %s goes on to confirm', async (_, repeat) => {
    bucketAnsweringRepeatWith(repeat)
    const { api, calls } = fakeApi()
    const confirmed = await transferWith(api).start()
    expect(confirmed.status).toBe('confirmed')
    expect(completes()).toBe(2)
    // The bytes were sent once: nothing about the error meant they were lost.
    expect(parts()).toBe(2)
    expect(calls.filter((name) => name === 'confirm')).toHaveLength(1)
    expect(calls).not.toContain('cancel')
  })

  it('a first Complete refused with 412 is a real refusal (another object took the key): the file fails', async () => {
    bucket = (request) =>
      request.method === 'PUT'
        ? { status: 200, etag: '"p"' }
        : { status: 412, text: '<Error><Code>PreconditionFailed</Code></Error>' }
    const { api, calls } = fakeApi()
    await expect(transferWith(api).start()).rejects.toThrow(/PreconditionFailed/)
    expect(completes()).toBe(1)
    expect(calls).not.toContain('confirm')
  })
})
