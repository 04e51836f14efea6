import { type CreatedUpload, type UploadApi, type UploadRecord, upkitCodeOf } from '@upkit/core'
import Uppy, { type Meta } from '@uppy/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_RETRY_POLICY } from './backoff'
import { FileTransfer } from './file-transfer'
import { Limiter } from './part-plan'
import { UPKIT_CALL_META, UPKIT_RESUME_META, type UpkitUploadBody, UpkitUploader } from './upkit-uploader'
import type { JournalEntry, UploadJournal } from './upload-journal'

/**
 * The uploader's decisions (what to send again, when to start over) against a fake API and a fake
 * XMLHttpRequest: real browsers and a real bucket cover the transfers themselves in e2e/.
 */

interface SentRequest {
  readonly method: string
  readonly url: string
  readonly size: number
  /** A string body (Complete's XML); parts and PUTs are Blobs. */
  readonly text?: string
}

type Answer = { status: number; etag?: string; text?: string } | 'network-error'
/** An answer that waits: `sentSoFar` bytes are reported as sent at once, the answer comes when `answer` settles. */
type HeldAnswer = { readonly sentSoFar: number; readonly answer: Promise<Answer> }

/** The bucket's answers, by request; every request is recorded. */
let bucket: (request: SentRequest) => Answer | HeldAnswer
/** Requests the uploader aborted. */
let abortedRequests: SentRequest[]
let sent: SentRequest[]
/** The headers each request in `sent` was given, in the same order. */
let sentHeaders: Record<string, string>[]
/** Bucket requests in flight right now, and the most there ever were. */
let inFlight = 0
let maxInFlight = 0

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
  #headers: Record<string, string> = {}
  #request: SentRequest | null = null

  open(method: string, url: string): void {
    this.#method = method
    this.#url = url
  }
  setRequestHeader(name: string, value: string): void {
    this.#headers[name] = value
  }
  getResponseHeader(name: string): string | null {
    return name.toLowerCase() === 'etag' ? this.#etag : null
  }
  abort(): void {
    if (!this.#aborted && this.#request) abortedRequests.push(this.#request)
    this.#aborted = true
  }
  send(body: Blob | string | null): void {
    const size = body instanceof Blob ? body.size : (body?.length ?? 0)
    const request = {
      method: this.#method,
      url: this.#url,
      size,
      ...(typeof body === 'string' ? { text: body } : {}),
    }
    sent.push(request)
    sentHeaders.push(this.#headers)
    this.#request = request
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    setTimeout(async () => {
      let answer = bucket(request)
      if (typeof answer === 'object' && 'sentSoFar' in answer) {
        this.upload.onprogress?.({ loaded: answer.sentSoFar })
        answer = await answer.answer
      }
      inFlight--
      if (this.#aborted) return
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
  sentHeaders = []
  abortedRequests = []
  inFlight = 0
  maxInFlight = 0
  bucket = () => ({ status: 200, etag: '"e"' })
  ;(globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = FakeXhr
})
afterEach(() => {
  ;(globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = original
})

function record(id: string, size: number): UploadRecord {
  return {
    id,
    route: 'taskAttachment',
    status: 'confirmed',
    fileName: 'notes.txt',
    mimeType: 'text/plain',
    size,
    createdAt: new Date(0).toISOString(),
    confirmedAt: new Date(0).toISOString(),
    uploadedBy: null,
    thumbnailUrl: null,
  }
}

/** `create` plans multipart uploads with this part size, signing the first `signedWithCreate` parts. */
interface MultipartOption {
  readonly partSize: number
  readonly signedWithCreate: number
}

/** A presigned-looking URL: `X-Amz-Date` + `X-Amz-Expires` say when it expires, as the uploader reads them. */
function presigned(path: string, expiresInSeconds = 900): string {
  const date = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
  const separator = path.includes('?') ? '&' : '?'
  return `http://bucket.test/${path}${separator}X-Amz-Date=${date}&X-Amz-Expires=${expiresInSeconds}`
}

/**
 * An API whose `confirm` answers come from `confirmAnswers` in turn (then succeed); every call is recorded.
 * Single PUTs by default; multipart with `multipart`.
 */
function fakeApi(confirmAnswers: (() => never)[] = [], multipart?: MultipartOption) {
  const calls: { name: keyof UploadApi; input: unknown }[] = []
  let next = 0
  const api: UploadApi = {
    async create(input) {
      calls.push({ name: 'create', input })
      const id = `upload-${++next}`
      const upload = {
        ...record(id, input.size),
        status: 'pending' as const,
        confirmedAt: null,
      }
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString()
      if (multipart) {
        const partCount = Math.ceil(input.size / multipart.partSize)
        const signed = Math.min(multipart.signedWithCreate, partCount)
        const created: CreatedUpload = {
          upload,
          key: `key-${id}`,
          transfer: { type: 'multipart', size: input.size, partSize: multipart.partSize, partCount },
          expiresAt,
          s3UploadId: `mpu-${id}`,
          signedPut: null,
          signedParts: Array.from({ length: signed }, (_, i) => ({
            partNumber: i + 1,
            url: presigned(`key-${id}?partNumber=${i + 1}&uploadId=mpu-${id}`),
            headers: {},
          })),
        }
        return created
      }
      const created: CreatedUpload = {
        upload,
        key: `key-${id}`,
        transfer: { type: 'single', size: input.size },
        expiresAt,
        s3UploadId: null,
        signedPut: {
          url: `http://bucket.test/key-${id}`,
          method: 'PUT',
          headers: { 'content-type': 'text/plain', 'if-none-match': '*' },
          key: `key-${id}`,
        },
        signedParts: [],
      }
      return created
    },
    async sign(input) {
      calls.push({ name: 'sign', input })
      const { key, method, uploadId } = input.request
      return {
        url: uploadId ? presigned(`${key}?uploadId=${uploadId}`) : `http://bucket.test/${key}`,
        method,
        headers: {},
        key,
      }
    },
    async signParts(input) {
      calls.push({ name: 'signParts', input })
      return input.partNumbers.map((partNumber) => ({
        partNumber,
        url: presigned(`key-${input.uploadId}?partNumber=${partNumber}&uploadId=${input.s3UploadId}`),
        headers: {},
      }))
    },
    async confirm(input) {
      calls.push({ name: 'confirm', input })
      const answer = confirmAnswers.shift()
      if (answer) answer()
      return record(input.uploadId, 5)
    },
    async cancel(input) {
      calls.push({ name: 'cancel', input })
      return null
    },
    policies: unused,
    // The batch calls answer per file with what the single calls would (the server's own tests cover them).
    async createMany({ files, ...call }) {
      calls.push({ name: 'createMany', input: files.length })
      return Promise.all(
        files.map((file) =>
          api.create({ ...call, ...file }).then(
            (created) => ({ ok: true as const, created }),
            (error: Error) => ({
              ok: false as const,
              error: { code: upkitCodeOf(error) ?? 'INVALID_INPUT', message: error.message },
            }),
          ),
        ),
      )
    },
    async confirmMany({ uploads }) {
      calls.push({ name: 'confirmMany', input: uploads.length })
      return Promise.all(
        uploads.map((upload) =>
          api.confirm(upload).then(
            (confirmed) => ({ ok: true as const, upload: confirmed }),
            (error: Error) => ({
              ok: false as const,
              error: { code: upkitCodeOf(error) ?? 'INVALID_INPUT', message: error.message },
            }),
          ),
        ),
      )
    },
    resume: unused,
    list: unused,
    usage: unused,
    download: unused,
    delete: unused,
    setInline: unused,
    removeInline: unused,
  }
  return { api, calls, names: () => calls.map((call) => call.name) }
}

async function unused(): Promise<never> {
  throw new Error('The uploader must not call this.')
}

function apiError(upkitCode: string, httpStatus: number): Error {
  return Object.assign(new Error(`refused: ${upkitCode}`), { data: { upkitCode, httpStatus } })
}

function setup(
  api: UploadApi,
  data: Blob = new Blob(['hello']),
  options: { journal?: UploadJournal; journalAfterMs?: number; meta?: Record<string, unknown> } = {},
) {
  const uppy = new Uppy<Meta, UpkitUploadBody>({ autoProceed: false })
  // A short retry budget, so "the API stayed down" is reached in milliseconds.
  uppy.use(UpkitUploader, {
    api,
    call: { route: 'taskAttachment', input: { taskId: 'task-1' } },
    retry: { baseDelayMs: 1, maxDelayMs: 2, maxElapsedMs: 20 },
    ...(options.journal ? { journal: options.journal } : {}),
    ...(options.journalAfterMs === undefined ? {} : { journalAfterMs: options.journalAfterMs }),
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
  const id = uppy.addFile({ name: 'notes.txt', type: 'text/plain', data, meta: options.meta ?? {} })
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
    expect(fake.calls[0]?.input).toMatchObject({
      route: 'taskAttachment',
      input: { taskId: 'task-1' },
      fileName: 'notes.txt',
      size: 5,
    })
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

  it.each([
    ['finds the wrong size', 'OBJECT_SIZE_MISMATCH', 412],
    ["says the app's onConfirmed failed", 'HOOK_FAILED', 500],
  ] as const)(
    'when confirm %s, a retry cancels that upload and sends the file in a new one',
    async (_, code, status) => {
      const fake = fakeApi([
        () => {
          throw apiError(code, status)
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
    },
  )

  it('sends the PUT with exactly the signed headers, If-None-Match included', async () => {
    const { uppy } = setup(fakeApi().api)
    await uppy.upload()
    expect(sentHeaders).toEqual([{ 'content-type': 'text/plain', 'if-none-match': '*' }])
  })

  it('a PUT sent again after its answer was lost gets 412 (the bytes are there) and goes on to confirm', async () => {
    let answers: Answer[] = [
      'network-error',
      { status: 412, text: '<Error><Code>PreconditionFailed</Code></Error>' },
    ]
    bucket = () => answers.shift() ?? { status: 500 }
    const fake = fakeApi()
    const { uppy, events } = setup(fake.api)
    await uppy.upload()
    expect(sent).toHaveLength(2)
    expect(events.at(-1)).toBe('success')
    expect(fake.names()).toEqual(['create', 'confirm'])
    answers = []
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

  describe('multipart', () => {
    /** 10 bytes in parts of 2: five parts, the first three signed with `create`. */
    const tenBytes = () => new Blob(['0123456789'])
    const plan: MultipartOption = { partSize: 2, signedWithCreate: 3 }
    const partOf = (request: SentRequest) => Number(new URL(request.url).searchParams.get('partNumber'))
    const parts = () => sent.filter((request) => request.method === 'PUT').map(partOf)
    const etagOf = (partNumber: number) => `"etag-${partNumber}"`
    /** As Complete carries it: XML-escaped. */
    const xmlEtagOf = (partNumber: number) => `&quot;etag-${partNumber}&quot;`
    const partsAnswer = (request: SentRequest): Answer =>
      request.method === 'PUT' ? { status: 200, etag: etagOf(partOf(request)) } : { status: 200, text: '' }

    it('sends the parts in parallel, signs the rest in one call, and completes with every ETag in order', async () => {
      bucket = partsAnswer
      const fake = fakeApi([], plan)
      const { uppy, events } = setup(fake.api, tenBytes())
      await uppy.upload()
      expect(events.at(-1)).toBe('success')
      expect(parts().sort()).toEqual([1, 2, 3, 4, 5])
      expect(maxInFlight).toBeGreaterThan(1)
      expect(fake.names().filter((name) => name === 'signParts')).toHaveLength(1)
      expect(fake.calls.find((call) => call.name === 'signParts')?.input).toMatchObject({
        partNumbers: [4, 5],
      })
      const complete = sent.at(-1)
      expect(complete?.method).toBe('POST')
      expect(complete?.text).toBe(
        `<CompleteMultipartUpload>${[1, 2, 3, 4, 5]
          .map((n) => `<Part><PartNumber>${n}</PartNumber><ETag>${xmlEtagOf(n)}</ETag></Part>`)
          .join('')}</CompleteMultipartUpload>`,
      )
      expect(fake.names().at(-1)).toBe('confirm')
    })

    it('signs a part again when the bucket says its URL expired, and sends it again', async () => {
      let expiredOnce = false
      bucket = (request) => {
        if (request.method === 'PUT' && partOf(request) === 2 && !expiredOnce) {
          expiredOnce = true
          return {
            status: 403,
            text: '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>',
          }
        }
        return partsAnswer(request)
      }
      const fake = fakeApi([], plan)
      const { uppy, events } = setup(fake.api, tenBytes())
      await uppy.upload()
      expect(events.at(-1)).toBe('success')
      expect(parts().filter((n) => n === 2)).toHaveLength(2)
      const resigned = fake.calls.filter(
        (call) =>
          call.name === 'signParts' && (call.input as { partNumbers: number[] }).partNumbers.includes(2),
      )
      expect(resigned).toHaveLength(1)
    })

    it('fails at once on a refusal that is not an expiry, without sending the part again', async () => {
      bucket = (request) =>
        request.method === 'PUT' && partOf(request) === 1
          ? { status: 403, text: '<Error><Code>SignatureDoesNotMatch</Code><Message>no</Message></Error>' }
          : partsAnswer(request)
      const fake = fakeApi([], plan)
      const { uppy, events, errors } = setup(fake.api, tenBytes())
      await uppy.upload()
      expect(events.at(-1)).toBe('error')
      expect(errors[0]).toMatch(/SignatureDoesNotMatch/)
      expect(parts().filter((n) => n === 1)).toHaveLength(1)
      expect(fake.names()).not.toContain('confirm')
    })

    it('a retry after a failure asks the bucket which parts it has and sends only the others', async () => {
      // Part 4 keeps losing its connection until the retry budget (20 ms) is spent: the file fails.
      let partFourDown = true
      const stored = new Map<number, number>()
      bucket = (request) => {
        if (request.method === 'GET') {
          const listed = [...stored]
            .map(
              ([n, size]) =>
                `<Part><PartNumber>${n}</PartNumber><ETag>${etagOf(n)}</ETag><Size>${size}</Size></Part>`,
            )
            .join('')
          return { status: 200, text: `<ListPartsResult>${listed}</ListPartsResult>` }
        }
        if (request.method === 'PUT') {
          const n = partOf(request)
          if (n === 4 && partFourDown) return 'network-error'
          stored.set(n, request.size)
        }
        return partsAnswer(request)
      }
      const fake = fakeApi([], plan)
      const { uppy, id, events } = setup(fake.api, tenBytes())
      await uppy.upload()
      expect(events.at(-1)).toBe('error')
      expect(fake.names()).not.toContain('confirm')

      const storedFirst = new Set(stored.keys())
      expect(storedFirst.size).toBeGreaterThan(0)
      expect(storedFirst.has(4)).toBe(false)

      partFourDown = false
      const before = sent.length
      await uppy.retryUpload(id)
      expect(events.at(-1)).toBe('success')
      const again = sent.slice(before)
      expect(again[0]?.method).toBe('GET')
      // Exactly the parts the bucket did not have are sent: part 4 and any part stopped along with it.
      const resent = again.filter((request) => request.method === 'PUT').map(partOf)
      expect(resent.sort()).toEqual([1, 2, 3, 4, 5].filter((n) => !storedFirst.has(n)))
      expect(again.at(-1)?.text).toContain(`<PartNumber>5</PartNumber><ETag>${xmlEtagOf(5)}</ETag>`)
      expect(fake.names().filter((name) => name === 'create')).toHaveLength(1)
      expect(fake.names().at(-1)).toBe('confirm')
    })
  })

  describe('pause and resume', () => {
    /** 12 bytes in parts of 2: six parts, all in flight at once (the default concurrency is 6). */
    const twelveBytes = () => new Blob(['0123456789ab'])
    const plan: MultipartOption = { partSize: 2, signedWithCreate: 6 }
    const partOf = (request: SentRequest) => Number(new URL(request.url).searchParams.get('partNumber'))
    const listParts = (stored: Map<number, number>): Answer => ({
      status: 200,
      text: `<ListPartsResult>${[...stored]
        .map(
          ([n, size]) => `<Part><PartNumber>${n}</PartNumber><ETag>"e${n}"</ETag><Size>${size}</Size></Part>`,
        )
        .join('')}</ListPartsResult>`,
    })
    const until = async (condition: () => boolean) => {
      for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 2))
      expect(condition()).toBe(true)
    }

    it('stops the least advanced parts (at most one part of bytes lost), lets the others finish, and resumes from the bucket', async () => {
      const stored = new Map<number, number>()
      let release: (answer: Answer) => void = () => {}
      const held = new Promise<Answer>((resolve) => {
        release = resolve
      })
      let holding = true
      bucket = (request) => {
        if (request.method === 'GET') return listParts(stored)
        if (request.method !== 'PUT') return { status: 200, text: '' }
        const n = partOf(request)
        const done = (): Answer => {
          // An aborted request never reached the bucket whole.
          if (!abortedRequests.includes(request)) stored.set(n, request.size)
          return { status: 200, etag: `"e${n}"` }
        }
        if (!holding) return done()
        // Parts 1-3 have sent almost all their bytes, parts 4-6 a little: 1 byte each (3 in all > 2 = one part).
        return { sentSoFar: n <= 3 ? 1.9 : 1, answer: held.then(done) }
      }
      const fake = fakeApi([], plan)
      const { uppy, id, events } = setup(fake.api, twelveBytes())
      const finished = uppy.upload()
      await until(() => sent.filter((r) => r.method === 'PUT').length === 6)
      await new Promise((resolve) => setTimeout(resolve, 5))

      uppy.pauseResume(id)
      // Parts 4 and 5 (1 + 1 byte sent: one part's worth) stop; part 6 would make it 3 bytes, so it finishes.
      expect(abortedRequests.map(partOf).sort()).toEqual([4, 5])
      holding = false
      release({ status: 200 })
      await until(
        () =>
          (uppy.getPlugin('UpkitUploader') as UpkitUploader | undefined)?.getPluginState().files[id]
            ?.phase === 'paused',
      )
      expect([...stored.keys()].sort()).toEqual([1, 2, 3, 6])
      expect(fake.names()).not.toContain('confirm')

      const before = sent.length
      uppy.pauseResume(id)
      await finished
      expect(events.at(-1)).toBe('success')
      const again = sent.slice(before)
      expect(again[0]?.method).toBe('GET')
      expect(
        again
          .filter((r) => r.method === 'PUT')
          .map(partOf)
          .sort(),
      ).toEqual([4, 5])
      expect(fake.names().filter((name) => name === 'create')).toHaveLength(1)
      expect(fake.names().at(-1)).toBe('confirm')
    })

    it('pauseAll holds files that have not started; resumeAll sends them', async () => {
      const fake = fakeApi()
      const { uppy, events } = setup(fake.api)
      const second = uppy.addFile({ name: 'b.txt', type: 'text/plain', data: new Blob(['world']) })
      const upload = uppy.upload()
      uppy.pauseAll()
      await until(
        () =>
          (uppy.getPlugin('UpkitUploader') as UpkitUploader | undefined)?.getPluginState().files[second]
            ?.phase === 'paused',
      )
      uppy.resumeAll()
      await upload
      expect(events.filter((event) => event === 'success')).toHaveLength(2)
    })

    function memoryJournal(entries: JournalEntry[] = []) {
      const saved = new Map(entries.map((entry) => [entry.uploadId, entry]))
      const journal: UploadJournal = {
        async save(entry) {
          saved.set(entry.uploadId, entry)
        },
        progress() {},
        async remove(uploadId) {
          saved.delete(uploadId)
        },
        async list() {
          return [...saved.values()]
        },
        subscribe: () => () => {},
      }
      return { journal, saved }
    }

    it('carries on an upload an earlier page started: its plan from resume, only the parts the bucket lacks', async () => {
      const stored = new Map([
        [1, 2],
        [2, 2],
        [5, 2],
      ])
      bucket = (request) => {
        if (request.method === 'GET') return listParts(stored)
        if (request.method === 'PUT') stored.set(partOf(request), request.size)
        return { status: 200, etag: `"e${partOf(request)}"`, text: '' }
      }
      const fake = fakeApi([], plan)
      fake.api.resume = async (input) => {
        fake.calls.push({ name: 'resume', input })
        const created = await fakeApi([], plan).api.create({
          route: 'taskAttachment',
          input: {},
          fileName: 'notes.txt',
          size: 12,
          mimeType: 'text/plain',
        })
        return { ...created, upload: { ...created.upload, id: input.uploadId }, signedParts: [] }
      }
      const { journal, saved } = memoryJournal()
      const { uppy, events } = setup(fake.api, twelveBytes(), {
        journal,
        meta: { [UPKIT_RESUME_META]: 'upload-earlier' },
      })
      await uppy.upload()
      expect(events.at(-1)).toBe('success')
      expect(fake.names()).not.toContain('create')
      expect(fake.calls[0]).toEqual({ name: 'resume', input: { uploadId: 'upload-earlier' } })
      expect(sent[0]?.method).toBe('GET')
      expect(
        sent
          .filter((r) => r.method === 'PUT')
          .map(partOf)
          .sort(),
      ).toEqual([3, 4, 6])
      expect(saved.size).toBe(0)
    })

    it('an upload an earlier page left that the server confirmed meanwhile is not sent again', async () => {
      const fake = fakeApi([], plan)
      fake.api.resume = async () => {
        throw apiError('UPLOAD_NOT_PENDING', 409)
      }
      fake.api.list = async () => [{ ...record('upload-earlier', 12), status: 'confirmed' }]
      const { uppy, events, successes } = setup(fake.api, twelveBytes(), {
        meta: { [UPKIT_RESUME_META]: 'upload-earlier' },
      })
      await uppy.upload()
      expect(events.at(-1)).toBe('success')
      expect(successes.map((upload) => upload.id)).toEqual(['upload-earlier'])
      expect(sent).toEqual([])
      expect(fake.names()).not.toContain('create')
    })

    it('remembers a single-PUT upload only once it has run for journalAfterMs, and forgets it once confirmed', async () => {
      const { journal, saved } = memoryJournal()
      const savedIds: string[] = []
      const save = journal.save.bind(journal)
      journal.save = async (entry) => {
        savedIds.push(entry.uploadId)
        await save(entry)
      }
      // Quick: confirmed before its time is up, so the journal is never written.
      const quick = setup(fakeApi().api, new Blob(['hello']), { journal, journalAfterMs: 50 })
      await quick.uppy.upload()
      expect(quick.events.at(-1)).toBe('success')
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(savedIds).toEqual([])

      // Slow: the PUT is still travelling when its time is up, so it is remembered, then forgotten once confirmed.
      let answer: (value: Answer) => void = () => {}
      bucket = () => ({ sentSoFar: 2, answer: new Promise<Answer>((resolve) => (answer = resolve)) })
      const slow = setup(fakeApi().api, new Blob(['hello']), { journal, journalAfterMs: 50 })
      const upload = slow.uppy.upload()
      await until(() => saved.size === 1)
      expect([...saved.values()][0]).toMatchObject({ uploadId: 'upload-1', fileName: 'notes.txt', size: 5 })
      answer({ status: 200, etag: '"e"' })
      await upload
      expect(slow.events.at(-1)).toBe('success')
      await until(() => saved.size === 0)
      expect(savedIds).toEqual(['upload-1'])
    })

    it('unmounted before journalAfterMs, a travelling single-PUT upload is remembered at once', async () => {
      const { journal, saved } = memoryJournal()
      bucket = () => ({ sentSoFar: 2, answer: new Promise<Answer>(() => {}) })
      const fake = fakeApi()
      const { uppy } = setup(fake.api, new Blob(['hello']), { journal, journalAfterMs: 60_000 })
      void uppy.upload()
      await until(() => sent.length === 1)
      expect(saved.size).toBe(0)
      const plugin = uppy.getPlugin('UpkitUploader')
      if (plugin) uppy.removePlugin(plugin)
      await until(() => saved.size === 1)
      expect([...saved.values()][0]).toMatchObject({ uploadId: 'upload-1', fileName: 'notes.txt', size: 5 })
    })

    it('remembers a new upload in the journal while it travels and forgets it once confirmed', async () => {
      const { journal, saved } = memoryJournal()
      const fake = fakeApi([], plan)
      const confirm = fake.api.confirm
      let seen: JournalEntry | undefined
      fake.api.confirm = async (input) => {
        await until(() => saved.size === 1)
        seen = [...saved.values()][0]
        return confirm(input)
      }
      const { uppy, events } = setup(fake.api, twelveBytes(), { journal })
      await uppy.upload()
      expect(events.at(-1)).toBe('success')
      expect(seen).toMatchObject({ uploadId: 'upload-1', fileName: 'notes.txt', size: 12, bytesSent: 0 })
      expect(seen?.file?.size).toBe(12)
      await until(() => saved.size === 0)
    })
  })

  it('sends the preview with confirm, and confirms without it when the server refuses the preview', async () => {
    const refused = () => {
      throw apiError('THUMBNAIL_INVALID', 422)
    }
    const fake = fakeApi([refused])
    const transfer = new FileTransfer(
      {
        blob: new Blob(['hello']),
        fileName: 'photo.jpg',
        mimeType: 'image/jpeg',
        call: { route: 'taskAttachment', input: {} },
        thumbnail: async () => 'UklGRg==',
      },
      {
        api: fake.api,
        settings: {
          signBatchSize: 100,
          retry: DEFAULT_RETRY_POLICY,
          stallTimeoutMs: 30_000,
          progressIntervalMs: 250,
          urlExpiryMarginMs: 60_000,
        },
        limiter: new Limiter(6),
        getState: () => undefined,
        setState: () => {},
        progress: () => {},
      },
    )
    const confirmed = await transfer.start()
    expect(confirmed.id).toBe('upload-1')
    expect(fake.calls.filter((call) => call.name === 'confirm').map((call) => call.input)).toEqual([
      { uploadId: 'upload-1', thumbnail: 'UklGRg==' },
      { uploadId: 'upload-1' },
    ])
  })

  it('creates files added together in one createMany call', async () => {
    const fake = fakeApi()
    const { uppy, events } = setup(fake.api)
    uppy.addFile({ name: 'b.txt', type: 'text/plain', data: new Blob(['world']) })
    uppy.addFile({ name: 'c.txt', type: 'text/plain', data: new Blob(['again']) })
    await uppy.upload()
    expect(events.filter((event) => event === 'success')).toHaveLength(3)
    expect(fake.calls.filter((call) => call.name === 'createMany')).toEqual([
      { name: 'createMany', input: 3 },
    ])
  })

  it('creates the upload for the route and input the file was added for', async () => {
    const fake = fakeApi()
    const { uppy, id } = setup(fake.api)
    uppy.setFileMeta(id, { [UPKIT_CALL_META]: { route: 'taskAttachment', input: { taskId: 'task-7' } } })
    uppy
      .getPlugin<UpkitUploader>('UpkitUploader')
      ?.setOptions({ call: { route: 'taskAttachment', input: { taskId: 'task-9' } } })
    await uppy.upload()
    expect(fake.calls[0]?.input).toMatchObject({ route: 'taskAttachment', input: { taskId: 'task-7' } })
  })

  it('marks a file the server refuses as not worth retrying, and other failures as retryable', async () => {
    const refused = fakeApi()
    Object.assign(refused.api, {
      create: async () => {
        throw apiError('FILE_TYPE_NOT_ALLOWED', 415)
      },
    })
    const first = setup(refused.api)
    await first.uppy.upload()
    const stateOf = (uppy: typeof first.uppy, id: string) =>
      uppy.getPlugin<UpkitUploader>('UpkitUploader')?.getPluginState().files[id]
    expect(stateOf(first.uppy, first.id)).toMatchObject({ phase: 'error', retryable: false })

    bucket = () => 'network-error'
    const second = setup(fakeApi().api)
    await second.uppy.upload()
    expect(stateOf(second.uppy, second.id)).toMatchObject({ phase: 'error', retryable: true })
  })
})
