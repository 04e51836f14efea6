import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { startLocalS3 } from '@upkit/local-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BucketStorage, PresignedRequest } from './bucket-storage'
import { contentDispositionAttachment } from './content-disposition'
import { s3Presets } from './presets'
import { createS3BucketStorage } from './s3-bucket-storage'

const credentials = { accessKeyId: 'storage-test-key', secretAccessKey: 'storage-test-secret' }
const BUCKET = 'storage-test'
const ORIGIN = 'http://app.example.test'
const MiB = 1024 * 1024

let dir: string
let server: Awaited<ReturnType<typeof startLocalS3>>
let storage: BucketStorage

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'upkit-storage-'))
  server = await startLocalS3({ dir, port: 0, host: '127.0.0.1', ...credentials })
  storage = createS3BucketStorage(s3Presets.local({ endpoint: server.endpoint, bucket: BUCKET, credentials }))
  await storage.ensureBucket({
    cors: [
      {
        allowedOrigins: [ORIGIN],
        allowedMethods: ['GET', 'PUT', 'POST', 'DELETE'],
        allowedHeaders: ['content-type', 'x-amz-meta-*'],
        exposeHeaders: ['ETag'],
        maxAgeSeconds: 600,
      },
    ],
  })
})

afterAll(async () => {
  await server?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

function bytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length)
  let x = seed
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff
    out[i] = x >>> 16
  }
  return out
}

function send(
  request: PresignedRequest,
  body?: Uint8Array | string,
  extraHeaders: Record<string, string> = {},
) {
  return fetch(request.url, {
    method: request.method,
    headers: { ...request.headers, ...extraHeaders },
    ...(body === undefined ? {} : { body }),
  })
}

async function readAll(stream: Readable): Promise<Uint8Array> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk))
  return new Uint8Array(Buffer.concat(chunks))
}

/** vitest's deep equality walks typed arrays element by element, far too slowly for megabytes. */
function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

function xmlValues(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((match) => match[1] ?? '')
}

describe('presigned PUT', () => {
  it('uploads with fetch, signs Content-Type and Content-Length, and carries no SDK checksum', async () => {
    const body = bytes(1234)
    const request = await storage.presignPut({
      key: 'put/ok.bin',
      contentType: 'application/octet-stream',
      contentLength: body.length,
      expiresInSeconds: 60,
    })
    expect(request.method).toBe('PUT')
    expect(request.headers).toEqual({ 'content-type': 'application/octet-stream', 'if-none-match': '*' })
    const signed = new URL(request.url).searchParams.get('X-Amz-SignedHeaders')?.split(';')
    expect(signed).toEqual(
      expect.arrayContaining(['content-length', 'content-type', 'host', 'if-none-match']),
    )
    expect(request.url.toLowerCase()).not.toContain('checksum')

    const response = await send(request, body)
    expect(response.status).toBe(200)
    expect(await storage.head('put/ok.bin')).toMatchObject({
      size: 1234,
      contentType: 'application/octet-stream',
    })
    expect(await readAll(await storage.getObjectStream('put/ok.bin'))).toEqual(body)
  })

  it('rejects a tampered URL with 403', async () => {
    const request = await storage.presignPut({
      key: 'put/tampered.txt',
      contentType: 'text/plain',
      contentLength: 5,
      expiresInSeconds: 60,
    })
    const otherKey = { ...request, url: request.url.replace('put/tampered.txt', 'put/elsewhere.txt') }
    expect((await send(otherKey, 'hello')).status).toBe(403)
    const longer = new URL(request.url)
    longer.searchParams.set('X-Amz-Expires', '604800')
    expect((await send({ ...request, url: longer.toString() }, 'hello')).status).toBe(403)
    expect(await storage.head('put/elsewhere.txt')).toBeNull()
    expect(await storage.head('put/tampered.txt')).toBeNull()
  })

  it('rejects an expired URL with 403', async () => {
    const request = await storage.presignPut({
      key: 'put/expired.txt',
      contentType: 'text/plain',
      contentLength: 5,
      expiresInSeconds: 1,
    })
    await sleep(2100)
    expect((await send(request, 'hello')).status).toBe(403)
    expect(await storage.head('put/expired.txt')).toBeNull()
  })

  it('rejects a body larger than the signed Content-Length with 403', async () => {
    const request = await storage.presignPut({
      key: 'put/too-big.bin',
      contentType: 'application/octet-stream',
      contentLength: 10,
      expiresInSeconds: 60,
    })
    expect((await send(request, bytes(11))).status).toBe(403)
    expect(await storage.head('put/too-big.bin')).toBeNull()
    expect((await send(request, bytes(10))).status).toBe(200)
  })

  it('rejects a Content-Type other than the signed one with 403', async () => {
    const request = await storage.presignPut({
      key: 'put/typed.png',
      contentType: 'image/png',
      contentLength: 4,
      expiresInSeconds: 60,
    })
    expect((await send(request, bytes(4), { 'content-type': 'text/html' })).status).toBe(403)
    expect(await storage.head('put/typed.png')).toBeNull()
  })

  it('signs metadata as headers the client must send', async () => {
    const request = await storage.presignPut({
      key: 'put/meta.txt',
      contentType: 'text/plain',
      contentLength: 2,
      expiresInSeconds: 60,
      metadata: { 'upload-id': 'abc123' },
    })
    expect(request.headers).toEqual({
      'content-type': 'text/plain',
      'if-none-match': '*',
      'x-amz-meta-upload-id': 'abc123',
    })
    expect((await send(request, 'hi', { 'x-amz-meta-upload-id': 'forged' })).status).toBe(403)
    expect((await send(request, 'hi')).status).toBe(200)
  })

  it('refuses metadata that providers would mangle and expiries SigV4 cannot sign', async () => {
    const base = { key: 'x', contentType: 'text/plain', contentLength: 1, expiresInSeconds: 60 }
    await expect(storage.presignPut({ ...base, metadata: { Upper: 'x' } })).rejects.toThrow(/lowercase/)
    await expect(storage.presignPut({ ...base, metadata: { name: 'é' } })).rejects.toThrow(/ASCII/)
    await expect(storage.presignPut({ ...base, expiresInSeconds: 8 * 24 * 3600 })).rejects.toThrow(RangeError)
  })
})

describe('multipart', () => {
  it('runs create, upload part, list parts and complete from plain fetch like the browser', async () => {
    const key = 'multi/browser.bin'
    const parts = [bytes(5 * MiB, 7), bytes(1234, 8)]
    const whole = new Uint8Array(Buffer.concat(parts))

    const create = await storage.presignCreateMultipartUpload({
      key,
      contentType: 'video/mp4',
      expiresInSeconds: 60,
    })
    expect(create.method).toBe('POST')
    const created = await send(create)
    expect(created.status).toBe(200)
    const uploadId = xmlValues(await created.text(), 'UploadId')[0]
    if (!uploadId) throw new Error('no UploadId in CreateMultipartUpload response')

    const etags: string[] = []
    for (const [index, part] of parts.entries()) {
      const request = await storage.presignUploadPart({
        key,
        uploadId,
        partNumber: index + 1,
        contentLength: part.length,
        expiresInSeconds: 60,
      })
      expect(request.method).toBe('PUT')
      expect(new URL(request.url).searchParams.get('X-Amz-SignedHeaders')).toContain('content-length')
      const response = await send(request, part)
      expect(response.status).toBe(200)
      const etag = response.headers.get('etag')
      if (!etag) throw new Error('no ETag on UploadPart response')
      etags.push(etag)
    }

    const tooBig = await storage.presignUploadPart({
      key,
      uploadId,
      partNumber: 3,
      contentLength: 10,
      expiresInSeconds: 60,
    })
    expect((await send(tooBig, bytes(11))).status).toBe(403)

    const listRequest = await storage.presignListParts({
      key,
      uploadId,
      expiresInSeconds: 60,
    })
    expect(listRequest.method).toBe('GET')
    const listed = await send(listRequest)
    expect(listed.status).toBe(200)
    const listXml = await listed.text()
    expect(xmlValues(listXml, 'PartNumber')).toEqual(['1', '2'])
    expect(xmlValues(listXml, 'ETag').map((etag) => etag.replaceAll('&quot;', '"'))).toEqual(etags)
    expect(await storage.listParts({ key, uploadId })).toEqual([
      { partNumber: 1, etag: etags[0], size: 5 * MiB },
      { partNumber: 2, etag: etags[1], size: 1234 },
    ])

    const complete = await storage.presignCompleteMultipartUpload({
      key,
      uploadId,
      expiresInSeconds: 60,
    })
    expect(complete.method).toBe('POST')
    const completeXml = `<CompleteMultipartUpload>${etags
      .map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`)
      .join('')}</CompleteMultipartUpload>`
    const completed = await send(complete, completeXml, { 'content-type': 'application/xml' })
    expect(completed.status).toBe(200)
    expect(await completed.text()).not.toContain('<Error>')

    expect(await storage.head(key)).toMatchObject({ size: whole.length, contentType: 'video/mp4' })
    expect(sha256(await readAll(await storage.getObjectStream(key)))).toBe(sha256(whole))
  })

  it('completes server-side from listParts', async () => {
    const key = 'multi/server.bin'
    const { uploadId } = await storage.createMultipartUpload({ key, contentType: 'text/plain' })
    const part = await storage.presignUploadPart({
      key,
      uploadId,
      partNumber: 1,
      contentLength: 5,
      expiresInSeconds: 60,
    })
    expect((await send(part, 'hello')).status).toBe(200)
    const parts = await storage.listParts({ key, uploadId })
    const { etag } = await storage.completeMultipartUpload({ key, uploadId, parts })
    expect(etag).toBeTruthy()
    expect(new TextDecoder().decode(await storage.readRange(key, 0, 100))).toBe('hello')
  })

  it('aborts through a presigned DELETE and server-side', async () => {
    const first = await storage.createMultipartUpload({ key: 'abort/one.bin', contentType: 'text/plain' })
    const second = await storage.createMultipartUpload({ key: 'abort/two.bin', contentType: 'text/plain' })
    const part = await storage.presignUploadPart({
      key: 'abort/one.bin',
      uploadId: first.uploadId,
      partNumber: 1,
      contentLength: 3,
      expiresInSeconds: 60,
    })
    expect((await send(part, 'abc')).status).toBe(200)

    const before = await storage.listMultipartUploads({ prefix: 'abort/' })
    expect(before.map((upload) => upload.uploadId).sort()).toEqual([first.uploadId, second.uploadId].sort())

    const abort = await storage.presignAbortMultipartUpload({
      key: 'abort/one.bin',
      uploadId: first.uploadId,
      expiresInSeconds: 60,
    })
    expect(abort.method).toBe('DELETE')
    expect((await send(abort)).status).toBe(204)
    await storage.abortMultipartUpload({ key: 'abort/two.bin', uploadId: second.uploadId })

    expect(await storage.listMultipartUploads({ prefix: 'abort/' })).toEqual([])
    await expect(storage.listParts({ key: 'abort/one.bin', uploadId: first.uploadId })).rejects.toThrow()
    expect(await storage.head('abort/one.bin')).toBeNull()
  })
})

describe('objects', () => {
  it('puts from bytes and streams, heads, reads ranges and deletes', async () => {
    const data = new TextEncoder().encode('%PDF-1.7 rest of the file')
    await storage.putObject({
      key: 'obj/doc.pdf',
      body: data,
      contentType: 'application/pdf',
      contentLength: data.length,
    })
    await storage.putObject({
      key: 'obj/stream.txt',
      body: Readable.from([Buffer.from('streamed '), Buffer.from('body')]),
      contentType: 'text/plain',
      contentLength: 13,
    })
    await storage.putObject({
      key: 'obj/empty',
      body: new Uint8Array(),
      contentType: 'text/plain',
      contentLength: 0,
    })

    const head = await storage.head('obj/doc.pdf')
    expect(head).toMatchObject({ size: data.length, contentType: 'application/pdf' })
    expect(head?.etag).toMatch(/^"[^"]+"$/)
    expect(head?.lastModified).toBeInstanceOf(Date)
    expect(await storage.head('obj/missing')).toBeNull()

    expect(new TextDecoder().decode(await storage.readRange('obj/doc.pdf', 0, 4))).toBe('%PDF-')
    expect(new TextDecoder().decode(await storage.readRange('obj/doc.pdf', 21, 1000))).toBe('file')
    expect(await storage.readRange('obj/doc.pdf', 1000, 1010)).toEqual(new Uint8Array())
    expect(await storage.readRange('obj/empty', 0, 15)).toEqual(new Uint8Array())
    await expect(storage.readRange('obj/missing', 0, 15)).rejects.toThrow()
    expect(new TextDecoder().decode(await readAll(await storage.getObjectStream('obj/stream.txt')))).toBe(
      'streamed body',
    )

    await storage.deleteObject('obj/doc.pdf')
    await storage.deleteObject('obj/doc.pdf')
    expect(await storage.head('obj/doc.pdf')).toBeNull()
  })

  it('readStart answers what head answers and the first bytes from one GET; null when missing', async () => {
    const data = new TextEncoder().encode('%PDF-1.7 rest of the file')
    await storage.putObject({
      key: 'start/doc.pdf',
      body: data,
      contentType: 'application/pdf',
      contentLength: 25,
    })
    await storage.putObject({
      key: 'start/empty',
      body: new Uint8Array(),
      contentType: 'text/plain',
      contentLength: 0,
    })

    const read = await storage.readStart('start/doc.pdf', 5)
    const { lastModified, ...head } = (await storage.head('start/doc.pdf')) ?? {}
    expect(read?.head).toMatchObject(head)
    expect(read?.head.size).toBe(25)
    expect(read?.head.lastModified?.getTime()).toBe(lastModified?.getTime())
    expect(new TextDecoder().decode(read?.bytes)).toBe('%PDF-')
    // Longer than the object: the whole object, and the size still right.
    const whole = await storage.readStart('start/doc.pdf', 4096)
    expect(whole?.head.size).toBe(25)
    expect(whole?.bytes).toEqual(data)
    const empty = await storage.readStart('start/empty', 64)
    expect(empty?.head.size).toBe(0)
    expect(empty?.bytes).toEqual(new Uint8Array())
    expect(await storage.readStart('start/missing', 64)).toBeNull()
  })

  it('readStart reports a Content-Encoding stored with the upload, undecoded', async () => {
    const gzipped = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])
    const signed = await storage.presignPut({
      key: 'start/gz.bin',
      contentType: 'application/octet-stream',
      contentLength: gzipped.length,
      expiresInSeconds: 60,
    })
    const res = await send(signed, gzipped, { 'content-encoding': 'gzip' })
    expect(res.status).toBe(200)
    const read = await storage.readStart('start/gz.bin', 64)
    expect(read?.head.contentEncoding).toBe('gzip')
    expect(read?.bytes).toEqual(gzipped)
  })

  it('lists every page under a prefix and deletes in batches of 1000', async () => {
    const keys = Array.from({ length: 1003 }, (_, i) => `many/${String(i).padStart(4, '0')}.txt`)
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys.slice(i, i + 50).map((key) =>
          storage.putObject({
            key,
            body: new TextEncoder().encode(key),
            contentType: 'text/plain',
            contentLength: key.length,
          }),
        ),
      )
    }
    await storage.putObject({
      key: 'many-not/x',
      body: new Uint8Array(1),
      contentType: 'text/plain',
      contentLength: 1,
    })

    const listed = []
    for await (const object of storage.list({ prefix: 'many/' })) listed.push(object)
    expect(listed.map((object) => object.key)).toEqual(keys)
    expect(listed[0]).toMatchObject({ key: keys[0], size: keys[0]?.length })
    expect(listed[0]?.lastModified).toBeInstanceOf(Date)

    await storage.deleteObjects(keys)
    const after = []
    for await (const object of storage.list({ prefix: 'many' })) after.push(object.key)
    expect(after).toEqual(['many-not/x'])
    await storage.deleteObjects([])
  })
})

// Both transports of server-side writes: the hand-signed requests path-style providers get, and the AWS SDK that
// AWS itself (virtual-hosted addressing) always uses.
describe.each([
  ['hand-signed', true],
  ['AWS SDK', false],
] as const)('server-side writes return the bucket ETag (%s)', (_, directWrites) => {
  let storage: BucketStorage
  beforeAll(() => {
    storage = createS3BucketStorage({
      ...s3Presets.local({ endpoint: server.endpoint, bucket: BUCKET, credentials }),
      directWrites,
    })
  })
  const md5 = (data: Uint8Array) => createHash('md5').update(data).digest('hex')

  it('putObject answers the MD5 of the stored bytes, from bytes and from a stream', async () => {
    const data = bytes(70_000, 7)
    const fromBytes = await storage.putObject({
      key: 'etag/bytes.bin',
      body: data,
      contentType: 'application/octet-stream',
      contentLength: data.length,
    })
    expect(fromBytes.etag).toBe(`"${md5(data)}"`)
    expect((await storage.head('etag/bytes.bin'))?.etag).toBe(fromBytes.etag)

    const fromStream = await storage.putObject({
      key: 'etag/stream.bin',
      body: Readable.from([Buffer.from(data.subarray(0, 1000)), Buffer.from(data.subarray(1000))]),
      contentType: 'application/octet-stream',
      contentLength: data.length,
    })
    expect(fromStream.etag).toBe(fromBytes.etag)
    const other = await storage.putObject({
      key: 'etag/other.bin',
      body: bytes(70_000, 8),
      contentType: 'application/octet-stream',
      contentLength: 70_000,
    })
    expect(other.etag).not.toBe(fromBytes.etag)
  })

  it('signs keys with spaces, unicode and reserved characters, and reports bucket errors', async () => {
    const key = "odd/ünï cødé (1) it's *+=&?#!.txt"
    const data = new TextEncoder().encode('odd key')
    const put = await storage.putObject({
      key,
      body: data,
      contentType: 'text/plain',
      contentLength: data.length,
    })
    expect(put.etag).toBe(`"${md5(data)}"`)
    expect(new TextDecoder().decode(await readAll(await storage.getObjectStream(key)))).toBe('odd key')
    const { uploadId } = await storage.createMultipartUpload({ key, contentType: 'text/plain' })
    const part = await storage.uploadPart({
      key,
      uploadId,
      partNumber: 1,
      body: data,
      contentLength: data.length,
    })
    expect(part.etag).toBe(`"${md5(data)}"`)
    await storage.abortMultipartUpload({ key, uploadId })
    // Aborted again (a cancel racing another instance's sweeper): already gone is done, not an error.
    await storage.abortMultipartUpload({ key, uploadId })
    await expect(storage.listParts({ key, uploadId })).rejects.toMatchObject({ name: 'NoSuchUpload' })

    const missing = createS3BucketStorage(
      s3Presets.local({ endpoint: server.endpoint, bucket: 'no-such-bucket', credentials }),
    )
    await expect(
      missing.putObject({ key: 'x', body: data, contentType: 'text/plain', contentLength: data.length }),
    ).rejects.toThrow(/NoSuchBucket/)
    const wrongSecret = createS3BucketStorage(
      s3Presets.local({
        endpoint: server.endpoint,
        bucket: BUCKET,
        credentials: { ...credentials, secretAccessKey: 'wrong' },
      }),
    )
    await expect(
      wrongSecret.putObject({ key: 'x', body: data, contentType: 'text/plain', contentLength: data.length }),
    ).rejects.toThrow(/SignatureDoesNotMatch/)
    expect(await storage.head('x')).toBeNull()
  })

  it('uploadPart sends parts that complete into the object, with the AWS multipart ETag', async () => {
    const key = 'etag/multi.bin'
    const first = bytes(5 * MiB, 3)
    const second = bytes(1234, 4)
    const { uploadId } = await storage.createMultipartUpload({ key, contentType: 'application/zip' })
    const [one, two] = await Promise.all([
      storage.uploadPart({ key, uploadId, partNumber: 1, body: first, contentLength: first.length }),
      storage.uploadPart({
        key,
        uploadId,
        partNumber: 2,
        body: Readable.from([Buffer.from(second)]),
        contentLength: second.length,
      }),
    ])
    expect(one.etag).toBe(`"${md5(first)}"`)
    expect(two.etag).toBe(`"${md5(second)}"`)
    expect((await storage.listParts({ key, uploadId })).map((part) => part.etag)).toEqual([
      one.etag,
      two.etag,
    ])
    const completed = await storage.completeMultipartUpload({
      key,
      uploadId,
      parts: [
        { partNumber: 2, etag: two.etag },
        { partNumber: 1, etag: one.etag },
      ],
    })
    const combined = createHash('md5')
      .update(Buffer.from(md5(first), 'hex'))
      .update(Buffer.from(md5(second), 'hex'))
      .digest('hex')
    expect(completed.etag).toBe(`"${combined}-2"`)
    const stored = await readAll(await storage.getObjectStream(key))
    expect(sha256(stored)).toBe(sha256(Buffer.concat([first, second])))

    await expect(
      storage.uploadPart({ key, uploadId, partNumber: 1, body: first, contentLength: first.length }),
    ).rejects.toThrow()
    await expect(
      storage.uploadPart({ key, uploadId, partNumber: 0, body: second, contentLength: second.length }),
    ).rejects.toThrow(RangeError)
  })
})

describe('conditional writes: a signed PUT or Complete cannot replace an object that exists', () => {
  /** A PUT signed for `key` and `body`, sent `times` times; resolves each answer's status. */
  async function putTwice(target: BucketStorage, key: string, first: Uint8Array, second: Uint8Array) {
    const request = await target.presignPut({
      key,
      contentType: 'image/png',
      contentLength: first.length,
      expiresInSeconds: 60,
    })
    return [(await send(request, first)).status, (await send(request, second)).status]
  }

  it('a replayed PUT gets 412 PreconditionFailed and the first bytes stay', async () => {
    const original = bytes(70, 1)
    const swapped = bytes(70, 2)
    expect(await putTwice(storage, 'cond/put.png', original, swapped)).toEqual([200, 412])
    expect(sha256(await readAll(await storage.getObjectStream('cond/put.png')))).toBe(sha256(original))
    // The header is signed: dropping it to get past the check breaks the signature instead.
    const request = await storage.presignPut({
      key: 'cond/put.png',
      contentType: 'image/png',
      contentLength: 70,
      expiresInSeconds: 60,
    })
    const { 'if-none-match': _, ...withoutCondition } = request.headers
    expect((await send({ ...request, headers: withoutCondition }, swapped)).status).toBe(403)
  })

  it('a replayed Complete of another multipart upload gets 412 once the key exists', async () => {
    const key = 'cond/multi.bin'
    const complete = async (body: Uint8Array) => {
      const { uploadId } = await storage.createMultipartUpload({ key, contentType: 'video/mp4' })
      const { etag } = await storage.uploadPart({
        key,
        uploadId,
        partNumber: 1,
        body,
        contentLength: body.length,
      })
      const request = await storage.presignCompleteMultipartUpload({ key, uploadId, expiresInSeconds: 60 })
      expect(request.headers).toEqual({ 'if-none-match': '*' })
      const xml = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${etag}</ETag></Part></CompleteMultipartUpload>`
      const response = await send(request, xml)
      return { status: response.status, text: await response.text(), uploadId }
    }
    expect((await complete(bytes(100, 3))).status).toBe(200)
    const second = await complete(bytes(100, 4))
    expect(second.status).toBe(412)
    expect(second.text).toContain('<Code>PreconditionFailed</Code>')
    expect(sha256(await readAll(await storage.getObjectStream(key)))).toBe(sha256(bytes(100, 3)))
    await storage.abortMultipartUpload({ key, uploadId: second.uploadId })
  })

  it('in lenient mode (a provider without conditional writes) the header is accepted and ignored: the replay overwrites', async () => {
    const lenientDir = await mkdtemp(join(tmpdir(), 'upkit-storage-lenient-'))
    const lenient = await startLocalS3({ dir: lenientDir, ...credentials, conditionalWrites: 'ignore' })
    try {
      const target = createS3BucketStorage(
        s3Presets.local({ endpoint: lenient.endpoint, bucket: BUCKET, credentials }),
      )
      await target.ensureBucket()
      const swapped = bytes(70, 2)
      expect(await putTwice(target, 'cond/put.png', bytes(70, 1), swapped)).toEqual([200, 200])
      const head = await target.head('cond/put.png')
      // What upkit relies on there: the ETag changes with the bytes, so a recorded one reveals the swap.
      expect(head?.etag).toBe(`"${createHash('md5').update(swapped).digest('hex')}"`)
    } finally {
      await lenient.close()
      await rm(lenientDir, { recursive: true, force: true })
    }
  })
})

describe('presigned GET', () => {
  it('serves the object with a unicode, parenthesised attachment name', async () => {
    const data = new TextEncoder().encode('quarterly numbers')
    await storage.putObject({
      key: 'get/report',
      body: data,
      contentType: 'text/plain',
      contentLength: data.length,
    })
    const disposition = contentDispositionAttachment('Rapport (final) – été*.pdf')
    const url = await storage.presignGet({
      key: 'get/report',
      expiresInSeconds: 60,
      responseContentDisposition: disposition,
      responseContentType: 'application/pdf',
    })
    const response = await fetch(url)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-disposition')).toBe(disposition)
    expect(response.headers.get('content-type')).toBe('application/pdf')
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(data)

    const tampered = new URL(url)
    tampered.searchParams.set('response-content-type', 'text/html')
    expect((await fetch(tampered)).status).toBe(403)
  })
})

describe('ensureBucket', () => {
  it('is idempotent and applies CORS that answers preflights', async () => {
    const cors = [
      {
        allowedOrigins: [ORIGIN],
        allowedMethods: ['PUT', 'POST'],
        allowedHeaders: ['content-type'],
        exposeHeaders: ['ETag'],
        maxAgeSeconds: 300,
      },
    ]
    await storage.putObject({
      key: 'cors/kept.txt',
      body: new Uint8Array(2),
      contentType: 'text/plain',
      contentLength: 2,
    })
    await storage.ensureBucket({ cors })
    await storage.ensureBucket({ cors })
    await storage.ensureBucket()

    const target = `${server.endpoint}/${BUCKET}/cors/kept.txt`
    const preflight = await fetch(target, {
      method: 'OPTIONS',
      headers: {
        Origin: ORIGIN,
        'Access-Control-Request-Method': 'PUT',
        'Access-Control-Request-Headers': 'content-type',
      },
    })
    expect(preflight.status).toBe(200)
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect(preflight.headers.get('access-control-allow-methods')).toContain('PUT')

    const denied = await fetch(target, {
      method: 'OPTIONS',
      headers: { Origin: 'http://evil.example.test', 'Access-Control-Request-Method': 'PUT' },
    })
    expect(denied.headers.get('access-control-allow-origin')).toBeNull()

    // ensureBucket on an existing bucket neither recreated nor emptied it.
    expect(await storage.head('cors/kept.txt')).toMatchObject({ size: 2 })
  })
})

describe('checkBucket', () => {
  it('resolves for the configured bucket and rejects for a missing one or a wrong secret', async () => {
    await expect(storage.checkBucket()).resolves.toBeUndefined()
    const missing = createS3BucketStorage(
      s3Presets.local({ endpoint: server.endpoint, bucket: 'no-such-bucket', credentials }),
    )
    await expect(missing.checkBucket()).rejects.toThrow()
    const wrongSecret = createS3BucketStorage(
      s3Presets.local({
        endpoint: server.endpoint,
        bucket: BUCKET,
        credentials: { ...credentials, secretAccessKey: 'wrong' },
      }),
    )
    await expect(wrongSecret.checkBucket()).rejects.toThrow()
  })
})
