import type { CreatedUpload, UploadApi, UploadRecord } from '@upkit/core'
import Uppy, { type Meta } from '@uppy/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TASK_ID_META, type UpkitUploadBody, UpkitUploader } from './upkit-uploader'

/**
 * The uploader's decisions (what to send again, when to start over) against a fake API and a fake
 * XMLHttpRequest: real browsers and a real bucket cover the transfers themselves in e2e/.
 */

interface SentRequest {
  readonly method: string
  readonly url: string
  readonly size: number
}

type Answer = { status: number; etag?: string; text?: string } | 'network-error'

/** The bucket's answers, by request; every request is recorded. */
let bucket: (request: SentRequest) => Answer
let sent: SentRequest[]

class FakeXhr {
  static readonly DONE = 4
  upload: { onprogress: ((event: { loaded: number }) => void) | null } = { onprogress: null }
  onprogress: (() => void) | null = null
  onerror: (() => void) | null = null
  onload: (() => void) | null = null
  status = 0
  responseText = ''
  #method = ''
  #url = ''
  #etag: string | null = null
  #aborted = false

  open(method: string, url: string): void {
    this.#method = method
    this.#url = url
  }
  setRequestHeader(): void {}
  getResponseHeader(name: string): string | null {
    return name.toLowerCase() === 'etag' ? this.#etag : null
  }
  abort(): void {
    this.#aborted = true
  }
  send(body: Blob | string | null): void {
    const size = body instanceof Blob ? body.size : (body?.length ?? 0)
    const request = { method: this.#method, url: this.#url, size }
    sent.push(request)
    setTimeout(() => {
      if (this.#aborted) return
      const answer = bucket(request)
      if (answer === 'network-error') return this.onerror?.()
      this.upload.onprogress?.({ loaded: size })
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
  bucket = () => ({ status: 200, etag: '"e"' })
  ;(globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = FakeXhr
})
afterEach(() => {
  ;(globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = original
})

function record(id: string, taskId: string, size: number): UploadRecord {
  return {
    id,
    taskId,
    kind: 'attachment',
    status: 'confirmed',
    fileName: 'notes.txt',
    mimeType: 'text/plain',
    size,
    createdAt: new Date(0).toISOString(),
    confirmedAt: new Date(0).toISOString(),
  }
}

/** An API whose `confirm` answers come from `confirmAnswers` in turn (then succeed); every call is recorded. */
function fakeApi(confirmAnswers: (() => never)[] = []) {
  const calls: { name: keyof UploadApi; input: unknown }[] = []
  let next = 0
  const api: UploadApi = {
    async create(input) {
      calls.push({ name: 'create', input })
      const id = `upload-${++next}`
      const created: CreatedUpload = {
        upload: { ...record(id, input.taskId, input.size), status: 'pending', confirmedAt: null },
        key: `key-${id}`,
        transfer: { type: 'single', size: input.size },
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
        s3UploadId: null,
        signedPut: { url: `http://bucket.test/key-${id}`, method: 'PUT', headers: {}, key: `key-${id}` },
        signedParts: [],
      }
      return created
    },
    async sign(input) {
      calls.push({ name: 'sign', input })
      return {
        url: `http://bucket.test/${input.request.key}`,
        method: 'PUT',
        headers: {},
        key: input.request.key,
      }
    },
    async signParts(input) {
      calls.push({ name: 'signParts', input })
      return []
    },
    async confirm(input) {
      calls.push({ name: 'confirm', input })
      const answer = confirmAnswers.shift()
      if (answer) answer()
      return record(input.uploadId, 'task-1', 5)
    },
    async cancel(input) {
      calls.push({ name: 'cancel', input })
      return null
    },
  }
  return { api, calls, names: () => calls.map((call) => call.name) }
}

function apiError(upkitCode: string, httpStatus: number): Error {
  return Object.assign(new Error(`refused: ${upkitCode}`), { data: { upkitCode, httpStatus } })
}

function setup(api: UploadApi) {
  const uppy = new Uppy<Meta, UpkitUploadBody>({ autoProceed: false })
  // A short retry budget, so "the API stayed down" is reached in milliseconds.
  uppy.use(UpkitUploader, {
    api,
    taskId: 'task-1',
    retry: { baseDelayMs: 1, maxDelayMs: 2, maxElapsedMs: 20 },
  })
  const events: string[] = []
  const errors: string[] = []
  const successes: UploadRecord[] = []
  uppy.on('upload-progress', () => events.push('progress'))
  uppy.on('upload-success', (_file, response) => {
    events.push('success')
    if (response.body?.upload) successes.push(response.body.upload)
  })
  uppy.on('upload-error', (_file, error) => {
    events.push('error')
    errors.push(error.message)
  })
  const id = uppy.addFile({ name: 'notes.txt', type: 'text/plain', data: new Blob(['hello']) })
  return { uppy, id, events, errors, successes }
}

describe('UpkitUploader', () => {
  it('sends a small file in one signed PUT, then confirms it', async () => {
    const fake = fakeApi()
    const { uppy, id, events, successes } = setup(fake.api)
    await uppy.upload()
    expect(fake.names()).toEqual(['create', 'confirm'])
    expect(sent).toEqual([{ method: 'PUT', url: 'http://bucket.test/key-upload-1', size: 5 }])
    expect(events).toContain('progress')
    expect(events.at(-1)).toBe('success')
    expect(events).not.toContain('error')
    expect(successes.map((upload) => upload.id)).toEqual(['upload-1'])
    expect(uppy.getFile(id).progress.bytesUploaded).toBe(5)
    expect(fake.calls[0]?.input).toMatchObject({ taskId: 'task-1', fileName: 'notes.txt', size: 5 })
  })

  it('after a confirm that never got through, a retry only confirms: the file is not sent again', async () => {
    const down = () => {
      throw new TypeError('fetch failed')
    }
    // More failures than the 20 ms budget allows: the first attempt ends in an error.
    const fake = fakeApi(Array.from({ length: 1000 }, () => down))
    const { uppy, id, events, errors } = setup(fake.api)
    await uppy.upload()
    expect(events.at(-1)).toBe('error')
    expect(errors).toEqual(['fetch failed'])
    expect(sent).toHaveLength(1)

    // The API is back.
    fake.calls.length = 0
    const pending = fakeApi()
    Object.assign(fake.api, { confirm: pending.api.confirm })
    await uppy.retryUpload(id)
    expect(sent).toHaveLength(1)
    expect(fake.names()).toEqual([])
    expect(pending.names()).toEqual(['confirm'])
    expect(pending.calls[0]?.input).toEqual({ uploadId: 'upload-1' })
    expect(events.at(-1)).toBe('success')
  })

  it('when confirm finds the wrong size, a retry cancels that upload and sends the file in a new one', async () => {
    const fake = fakeApi([
      () => {
        throw apiError('OBJECT_SIZE_MISMATCH', 412)
      },
    ])
    const { uppy, id, events } = setup(fake.api)
    await uppy.upload()
    expect(events.at(-1)).toBe('error')
    expect(fake.names()).toEqual(['create', 'confirm'])

    await uppy.retryUpload(id)
    expect(events.at(-1)).toBe('success')
    expect(fake.calls.slice(2)).toEqual([
      { name: 'cancel', input: { uploadId: 'upload-1' } },
      { name: 'create', input: expect.objectContaining({ fileName: 'notes.txt' }) },
      { name: 'confirm', input: { uploadId: 'upload-2' } },
    ])
    expect(sent.map((request) => request.url)).toEqual([
      'http://bucket.test/key-upload-1',
      'http://bucket.test/key-upload-2',
    ])
  })

  it('retries a PUT that lost its connection, within the same attempt', async () => {
    let failures = 1
    bucket = () => (failures-- > 0 ? 'network-error' : { status: 200, etag: '"e"' })
    const fake = fakeApi()
    const { uppy, events } = setup(fake.api)
    await uppy.upload()
    expect(sent).toHaveLength(2)
    expect(events.at(-1)).toBe('success')
    expect(fake.names()).toEqual(['create', 'confirm'])
  })

  it('creates the upload under the task the file was added for', async () => {
    const fake = fakeApi()
    const { uppy, id } = setup(fake.api)
    uppy.setFileMeta(id, { [TASK_ID_META]: 'task-7' })
    uppy.getPlugin<UpkitUploader>('UpkitUploader')?.setOptions({ taskId: 'task-9' })
    await uppy.upload()
    expect(fake.calls[0]?.input).toMatchObject({ taskId: 'task-7' })
  })
})
