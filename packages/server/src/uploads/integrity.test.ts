import { createHash, randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { MULTIPART_THRESHOLD } from '@upkit/core'
import { startTestBucket, startTestDatabase, type TestDatabase } from '@upkit/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, expectRefusal, type TestContext } from '../test-support/test-app'

// A confirmed upload stays the file that was checked; what the bucket serves cannot be steered by the uploader.

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...randomBytes(92)])
/** Script of exactly the PNG's length: the signed Content-Length allows it. */
const SVG = new TextEncoder().encode(
  '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'.padEnd(PNG.length, ' '),
)
const PDF = new TextEncoder().encode(`%PDF-1.7\n${'x'.repeat(200)}`)

type Request = { url: string; method: string; headers: Record<string, string> }
const send = (request: Request, body: Uint8Array | string, headers: Record<string, string> = {}) =>
  fetch(request.url, { method: request.method, headers: { ...request.headers, ...headers }, body })
const md5 = (bytes: Uint8Array) => `"${createHash('md5').update(bytes).digest('hex')}"`

let db: TestDatabase

beforeAll(async () => {
  db = await startTestDatabase()
  expect(PNG.length).toBe(SVG.length)
})

afterAll(async () => {
  await db?.close()
})

/** An app on its own bucket, with `/files/:id` served on a port; the caller is signed in as `user`. */
async function startApp(options: { conditionalWrites?: 'enforce' | 'ignore' } = {}) {
  const bucket = await startTestBucket(options)
  let signedIn: TestContext['user'] = null
  const app = createTestApp(db, bucket, { context: () => ({ user: signedIn }) })
  const tenant = app.tenant()
  signedIn = tenant.user
  const caller = app.caller(tenant.user)
  const server: Server = createServer((req, res) => {
    void app.upkit.http(req, res).then((handled) => {
      if (!handled) res.writeHead(418).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    app,
    bucket,
    caller,
    taskId: tenant.taskId,
    /** `GET /files/:id` without following the redirect. */
    file: (id: string) => fetch(`${baseUrl}/files/${id}`, { redirect: 'manual' }),
    async upload(fileName: string, bytes: Uint8Array, mimeType: string, route = 'attachment') {
      const created = await caller.create({
        route: route as 'attachment',
        input: { taskId: tenant.taskId },
        fileName,
        size: bytes.length,
        mimeType,
      })
      const signedPut = created.signedPut
      if (!signedPut) throw new Error('expected a single PUT')
      return { created, signedPut }
    },
    async close() {
      server.close()
      await bucket.close()
    },
  }
}

type App = Awaited<ReturnType<typeof startApp>>

describe('a provider with conditional writes (AWS S3, R2, MinIO, local-s3 by default)', () => {
  let t: App
  beforeAll(async () => {
    t = await startApp()
  })
  afterAll(() => t?.close())

  it('the browser is told to send If-None-Match: * with the single PUT, signed', async () => {
    const { signedPut } = await t.upload('a.png', PNG, 'image/png')
    expect(signedPut.headers).toEqual({ 'content-type': 'image/png', 'if-none-match': '*' })
    expect(new URL(signedPut.url).searchParams.get('X-Amz-SignedHeaders')).toContain('if-none-match')
  })

  it('a replayed signed PUT after confirm gets 412 and the checked bytes stay what is served', async () => {
    const { created, signedPut } = await t.upload('photo.png', PNG, 'image/png')
    expect((await send(signedPut, PNG)).status).toBe(200)
    await t.caller.confirm({ uploadId: created.upload.id })
    const row = await db.prisma.upkitUpload.findUniqueOrThrow({ where: { id: created.upload.id } })
    expect(row.etag).toBe(md5(PNG))

    const replay = await send(signedPut, SVG)
    expect(replay.status).toBe(412)
    expect(await replay.text()).toContain('<Code>PreconditionFailed</Code>')
    const { url } = await t.caller.download({ uploadId: created.upload.id })
    expect(Buffer.from(await (await fetch(url)).arrayBuffer())).toEqual(Buffer.from(PNG))
  })

  it('a multipart upload cannot be recreated after confirm: its part and Complete URLs find NoSuchUpload', async () => {
    const size = MULTIPART_THRESHOLD + 7
    const bytes = randomBytes(size)
    const created = await t.caller.create({
      route: 'attachment',
      input: { taskId: t.taskId },
      fileName: 'big.bin',
      size,
      mimeType: 'application/octet-stream',
    })
    if (created.transfer.type !== 'multipart' || !created.s3UploadId) throw new Error('expected multipart')
    const { partSize } = created.transfer
    const etags: string[] = []
    for (const part of created.signedParts) {
      const body = bytes.subarray((part.partNumber - 1) * partSize, part.partNumber * partSize)
      const response = await send({ ...part, method: 'PUT' }, body)
      expect(response.status).toBe(200)
      etags.push(response.headers.get('etag') as string)
    }
    const complete = await t.caller.sign({
      uploadId: created.upload.id,
      request: { method: 'POST', key: created.key, uploadId: created.s3UploadId },
    })
    expect(complete.headers).toMatchObject({ 'if-none-match': '*' })
    const xml = `<CompleteMultipartUpload>${etags
      .map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`)
      .join('')}</CompleteMultipartUpload>`
    expect((await send(complete, xml)).status).toBe(200)
    await t.caller.confirm({ uploadId: created.upload.id })

    const first = created.signedParts[0]
    if (!first) throw new Error('expected a signed part')
    const replayedPart = await send({ ...first, method: 'PUT' }, randomBytes(partSize))
    expect(replayedPart.status).toBe(404)
    expect(await replayedPart.text()).toContain('<Code>NoSuchUpload</Code>')
    const replayedComplete = await send(complete, xml)
    expect(replayedComplete.status).toBe(404)
    // Nothing to sign any more: the upload is confirmed.
    await expectRefusal(
      t.caller.sign({
        uploadId: created.upload.id,
        request: { method: 'POST', key: created.key },
      }),
      'CONFLICT',
      'UPLOAD_NOT_PENDING',
    )
    const { url } = await t.caller.download({ uploadId: created.upload.id })
    const served = Buffer.from(await (await fetch(url)).arrayBuffer())
    expect(createHash('sha256').update(served).digest('hex')).toBe(
      createHash('sha256').update(bytes).digest('hex'),
    )
  })

  it('a signed PUT used after cancel gets 412: the row is CANCELLED and an empty placeholder holds the key', async () => {
    const { created, signedPut } = await t.upload('late.png', PNG, 'image/png')
    const before = Date.now()
    await t.caller.cancel({ uploadId: created.upload.id })
    const row = await db.prisma.upkitUpload.findUniqueOrThrow({ where: { id: created.upload.id } })
    expect(row.status).toBe('CANCELLED')
    // Kept until every URL signed for it has expired (the default signedUrlTtlSeconds, 300 s).
    expect(row.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 300_000)

    expect((await send(signedPut, PNG)).status).toBe(412)
    expect((await t.bucket.storage.head(created.key))?.size).toBe(0)
    await expectRefusal(t.caller.confirm({ uploadId: created.upload.id }), 'CONFLICT', 'UPLOAD_NOT_PENDING')
    expect((await t.bucket.storage.head(created.key))?.size).toBe(0)
    await expectRefusal(
      t.caller.sign({ uploadId: created.upload.id, request: { method: 'PUT', key: created.key } }),
      'CONFLICT',
      'UPLOAD_NOT_PENDING',
    )

    // Before the URLs expire the sweeper leaves both; after, it removes the row and the placeholder.
    const sweepAt = (ms: number) => createTestApp(db, t.bucket, { now: () => new Date(ms) }).upkit.sweep()
    await sweepAt(before + 60_000)
    expect(await db.prisma.upkitUpload.count({ where: { id: created.upload.id } })).toBe(1)
    await sweepAt(row.expiresAt.getTime() + 1000)
    expect(await db.prisma.upkitUpload.count({ where: { id: created.upload.id } })).toBe(0)
    expect(await t.bucket.storage.head(created.key)).toBeNull()
  })

  it('cancel after the bytes arrived replaces them with the placeholder', async () => {
    const { created, signedPut } = await t.upload('sent.png', PNG, 'image/png')
    expect((await send(signedPut, PNG)).status).toBe(200)
    await t.caller.cancel({ uploadId: created.upload.id })
    expect((await t.bucket.storage.head(created.key))?.size).toBe(0)
    expect((await send(signedPut, PNG)).status).toBe(412)
  })

  it('delete of an unconfirmed upload cancels it, so its live URL cannot leave an object either', async () => {
    const { created, signedPut } = await t.upload('gone.png', PNG, 'image/png')
    await t.caller.delete({ uploadId: created.upload.id })
    expect((await send(signedPut, PNG)).status).toBe(412)
    expect((await t.bucket.storage.head(created.key))?.size).toBe(0)
  })
})

describe('a provider that ignores If-None-Match (local-s3 in lenient mode)', () => {
  let t: App
  beforeAll(async () => {
    t = await startApp({ conditionalWrites: 'ignore' })
  })
  afterAll(() => t?.close())

  it('the replay overwrites, but the changed ETag is caught: download and /files/:id refuse with OBJECT_CHANGED', async () => {
    const { created, signedPut } = await t.upload('photo.png', PNG, 'image/png', 'commentImage')
    expect((await send(signedPut, PNG)).status).toBe(200)
    await t.caller.confirm({ uploadId: created.upload.id })
    expect((await t.file(created.upload.id)).status).toBe(302)

    expect((await send(signedPut, SVG)).status).toBe(200)
    const refusal = await expectRefusal(
      t.caller.download({ uploadId: created.upload.id }),
      'CONFLICT',
      'OBJECT_CHANGED',
    )
    expect(refusal.message).toContain('photo.png')
    const response = await t.file(created.upload.id)
    expect(response.status).toBe(409)
    expect(response.headers.get('location')).toBeNull()
    // Quarantined, not deleted: the row stays (the app's links and onDeleted still apply), and delete works.
    const row = await db.prisma.upkitUpload.findUniqueOrThrow({ where: { id: created.upload.id } })
    expect(row.status).toBe('CONFIRMED')
    await t.caller.delete({ uploadId: created.upload.id })
    expect(await t.bucket.storage.head(created.key)).toBeNull()
  })
})

describe('what the bucket serves', () => {
  let t: App
  beforeAll(async () => {
    t = await startApp()
  })
  afterAll(() => t?.close())

  async function confirmed(fileName: string, bytes: Uint8Array, mimeType: string, route = 'attachment') {
    const { created, signedPut } = await t.upload(fileName, bytes, mimeType, route)
    expect((await send(signedPut, bytes)).status).toBe(200)
    await t.caller.confirm({ uploadId: created.upload.id })
    return created.upload.id
  }

  /** The bucket's answer to the signed GET `/files/:id` redirects to. */
  async function served(uploadId: string) {
    const redirect = await t.file(uploadId)
    expect(redirect.status).toBe(302)
    return fetch(redirect.headers.get('location') as string)
  }

  it('anything but a verified image is an application/octet-stream attachment, privately cached', async () => {
    for (const [name, bytes, type] of [
      ['report.pdf', PDF, 'application/pdf'],
      ['notes.txt', new TextEncoder().encode('plain words'), 'text/plain'],
      ['blob.bin', SVG, 'application/octet-stream'],
    ] as const) {
      const response = await served(await confirmed(name, bytes, type))
      expect(response.headers.get('content-type')).toBe('application/octet-stream')
      expect(response.headers.get('content-disposition')).toMatch(/^attachment; /)
      expect(response.headers.get('cache-control')).toBe('private, max-age=60')
    }
  })

  it('a magic-byte-verified image in view mode keeps its type inline; as a download it is an attachment', async () => {
    const id = await confirmed('photo.png', PNG, 'image/png', 'commentImage')
    const viewed = await served(id)
    expect(viewed.headers.get('content-type')).toBe('image/png')
    expect(viewed.headers.get('content-disposition')).toMatch(/^inline; /)
    expect(viewed.headers.get('cache-control')).toBe('private, max-age=60')
    const downloaded = await fetch((await t.caller.download({ uploadId: id })).url)
    expect(downloaded.headers.get('content-type')).toBe('image/png')
    expect(downloaded.headers.get('content-disposition')).toMatch(/^attachment; /)
  })

  it('an unsigned Cache-Control sent with the PUT is stored by the bucket but never served', async () => {
    const { created, signedPut } = await t.upload('cached.pdf', PDF, 'application/pdf')
    const put = await send(signedPut, PDF, { 'cache-control': 'public, max-age=31536000' })
    expect(put.status).toBe(200)
    expect((await t.bucket.storage.head(created.key))?.cacheControl).toBe('public, max-age=31536000')
    await t.caller.confirm({ uploadId: created.upload.id })
    const response = await served(created.upload.id)
    expect(response.headers.get('cache-control')).toBe('private, max-age=60')
  })

  it('an unsigned Content-Encoding sent with the PUT fails confirm: the object goes, nothing is served', async () => {
    const { created, signedPut } = await t.upload('zipped.pdf', PDF, 'application/pdf')
    expect((await send(signedPut, PDF, { 'content-encoding': 'gzip' })).status).toBe(200)
    const refusal = await expectRefusal(
      t.caller.confirm({ uploadId: created.upload.id }),
      'UNSUPPORTED_MEDIA_TYPE',
      'OBJECT_TYPE_MISMATCH',
    )
    expect(refusal.message).toContain('Content-Encoding gzip')
    expect(await t.bucket.storage.head(created.key)).toBeNull()
    expect((await t.file(created.upload.id)).status).toBe(404)
  })
})
