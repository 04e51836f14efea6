import { randomBytes } from 'node:crypto'
import { CREATE_SIGNED_PARTS, GiB, MiB } from '@upkit/core'
import { startTestBucket, startTestDatabase, type TestBucket, type TestDatabase } from '@upkit/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, expectRefusal } from '../test-support/test-app'

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...randomBytes(2000)])
const HTML = new TextEncoder().encode(
  `<!doctype html><script>alert(document.cookie)</script>${'x'.repeat(2000)}`,
)

let db: TestDatabase
let bucket: TestBucket
let app: ReturnType<typeof createTestApp>
let caller: {
  ada: ReturnType<typeof app.caller>
  eve: ReturnType<typeof app.caller>
  anonymous: ReturnType<typeof app.caller>
}
let ids: { acme: string; globex: string; ada: string; eve: string; acmeTask: string; globexTask: string }

beforeAll(async () => {
  db = await startTestDatabase()
  bucket = await startTestBucket()
  app = createTestApp(db, bucket)
  const acme = app.tenant()
  const globex = app.tenant()
  ids = {
    acme: acme.companyId,
    globex: globex.companyId,
    ada: acme.userId,
    eve: globex.userId,
    acmeTask: acme.taskId,
    globexTask: globex.taskId,
  }
  caller = {
    ada: app.caller({ id: ids.ada, companyId: ids.acme }),
    eve: app.caller({ id: ids.eve, companyId: ids.globex }),
    anonymous: app.caller(null),
  }
})

afterAll(async () => {
  await bucket?.close()
  await db?.close()
})

async function put(
  request: { url: string; method: string; headers: Record<string, string> },
  body: Uint8Array,
  headers: Record<string, string> = {},
) {
  return fetch(request.url, { method: request.method, headers: { ...request.headers, ...headers }, body })
}

async function uploadSingle(fileName: string, bytes: Uint8Array, mimeType: string) {
  const created = await caller.ada.create({
    route: 'attachment',
    input: { taskId: ids.acmeTask },
    fileName,
    size: bytes.length,
    mimeType,
  })
  const response = await put(created.signedPut as NonNullable<typeof created.signedPut>, bytes)
  expect(response.status).toBe(200)
  return created
}

describe('create', () => {
  it('refuses files over the policy size, of a refused type, or empty, and writes no row', async () => {
    const before = await db.prisma.upkitUpload.count()
    const base = { input: { taskId: ids.acmeTask }, fileName: 'x.png', mimeType: 'image/png' }
    const tooLarge = await expectRefusal(
      caller.ada.create({ ...base, size: 11 * MiB, route: 'commentImage' }),
      'PAYLOAD_TOO_LARGE',
      'FILE_TOO_LARGE',
    )
    expect(tooLarge.message).toBe('"x.png" is 11 MiB; comment images can be at most 10 MiB.')
    await expectRefusal(
      caller.ada.create({
        ...base,
        fileName: 'x.svg',
        mimeType: 'image/svg+xml',
        size: 10,
        route: 'commentImage',
      }),
      'UNSUPPORTED_MEDIA_TYPE',
      'FILE_TYPE_NOT_ALLOWED',
    )
    await expectRefusal(
      caller.ada.create({ ...base, size: 0, route: 'attachment' }),
      'BAD_REQUEST',
      'FILE_EMPTY',
    )
    expect(await db.prisma.upkitUpload.count()).toBe(before)
  })

  it("refuses another company's task and anonymous callers", async () => {
    const input = {
      route: 'attachment',
      input: { taskId: ids.globexTask },
      fileName: 'a.png',
      size: 10,
      mimeType: 'image/png',
    } as const
    await expectRefusal(caller.ada.create(input), 'NOT_FOUND', 'NOT_FOUND')
    await expectRefusal(
      caller.anonymous.create({ ...input, input: { taskId: ids.acmeTask } }),
      'UNAUTHORIZED',
    )
  })

  it('generates the key on the server, under the company, without the file name', async () => {
    const created = await caller.ada.create({
      route: 'attachment',
      input: { taskId: ids.acmeTask },
      fileName: '../../etc/passwd.png',
      size: 10,
      mimeType: 'image/png',
    })
    expect(created.key).toMatch(new RegExp(`^uploads/${ids.acme}/attachment/${created.upload.id}$`))
    expect(created.upload.status).toBe('pending')
    expect(created.transfer).toEqual({ type: 'single', size: 10 })
  })

  it('answers a single-PUT plan with its signed PUT and no multipart upload', async () => {
    const created = await caller.ada.create({
      route: 'attachment',
      input: { taskId: ids.acmeTask },
      fileName: 'a.png',
      size: PNG.length,
      mimeType: 'image/png',
    })
    expect(created).toMatchObject({ s3UploadId: null, signedParts: [] })
    const signed = created.signedPut
    if (!signed) throw new Error('expected a signed PUT')
    expect(signed).toMatchObject({
      method: 'PUT',
      key: created.key,
      headers: { 'content-type': 'image/png' },
    })
    // Its exact length and type are signed: the bucket refuses anything else.
    expect((await put(signed, PNG.subarray(1))).status).toBe(403)
    expect((await put(signed, PNG, { 'content-type': 'text/html' })).status).toBe(403)
    expect(await bucket.storage.head(created.key)).toBeNull()
    expect((await put(signed, PNG)).status).toBe(200)
    expect(await caller.ada.confirm({ uploadId: created.upload.id })).toMatchObject({ status: 'confirmed' })
  })
})

describe('create cleans up after itself', () => {
  it('aborts the multipart upload it started when the row cannot be written', async () => {
    // The real bucket and the real store, with one twist: the row's insert fails after the bucket already holds
    // a multipart upload (a database outage between the two).
    const { prismaUploadStore } = await import('@upkit/store-prisma')
    const real = prismaUploadStore(db.prisma)
    const failing = createTestApp(db, bucket, {
      store: {
        ...real,
        insert: () => Promise.reject(new Error('connection lost')),
        insertBelowPendingCap: () => Promise.reject(new Error('connection lost')),
      },
    })
    const acme = failing.tenant()
    const prefix = `uploads/${acme.companyId}/`
    await expect(
      failing.caller(acme.user).create({
        route: 'attachment',
        input: { taskId: acme.taskId },
        fileName: 'big.bin',
        size: 40 * MiB,
        mimeType: '',
      }),
    ).rejects.toThrow()
    expect(await bucket.storage.listMultipartUploads({ prefix })).toEqual([])
    expect(await db.prisma.upkitUpload.count({ where: { key: { startsWith: prefix } } })).toBe(0)
  })

  it('refused at the cap on uploads in flight, a multipart file leaves no row and no multipart upload', async () => {
    const app = createTestApp(db, bucket)
    const acme = app.tenant()
    const prefix = `uploads/${acme.companyId}/`
    const caller = app.caller(acme.user)
    const call = { route: 'attachment', input: { taskId: acme.taskId }, mimeType: '' } as const
    // The attachment route lets one person have 20 uploads in flight.
    for (let i = 0; i < 20; i++) await caller.create({ ...call, fileName: `${i}.bin`, size: 10 })
    const refused = await expectRefusal(
      caller.create({ ...call, fileName: 'big.bin', size: 40 * MiB }),
      'TOO_MANY_REQUESTS',
      'TOO_MANY_FILES',
    )
    expect(refused.message).toBe('At most 20 attachments can upload at once; wait for some to finish.')
    expect(await bucket.storage.listMultipartUploads({ prefix })).toEqual([])
    expect(await db.prisma.upkitUpload.count({ where: { key: { startsWith: prefix } } })).toBe(20)
  })
})

describe('expired signatures', () => {
  it('an expired upload URL gets 403 from the bucket, and signing again gives a working one', async () => {
    const shortLivedApp = createTestApp(db, bucket, { signedUrlTtlSeconds: 1 })
    const acme = shortLivedApp.tenant()
    const shortLived = shortLivedApp.caller(acme.user)
    const created = await shortLived.create({
      route: 'attachment',
      input: { taskId: acme.taskId },
      fileName: 'late.png',
      size: PNG.length,
      mimeType: 'image/png',
    })
    await new Promise((resolve) => setTimeout(resolve, 2100))
    const expired = await put(created.signedPut as NonNullable<typeof created.signedPut>, PNG)
    expect(expired.status).toBe(403)
    expect(await expired.text()).toContain('expired')
    // Signed again by an instance with the default lifetime: a 1 s URL may itself expire before a busy machine
    // sends it (SigV4 counts whole seconds), which is not what this test is about.
    app.tasks.set(acme.taskId, acme.companyId)
    const regular = app.caller(acme.user)
    const fresh = await regular.sign({
      uploadId: created.upload.id,
      request: { method: 'PUT', key: created.key },
    })
    expect(new URL(fresh.url).searchParams.get('X-Amz-Expires')).toBe('300')
    expect((await put(fresh, PNG)).status).toBe(200)
    expect((await regular.confirm({ uploadId: created.upload.id })).status).toBe('confirmed')
  })
})

describe('single PUT', () => {
  it('uploads, confirms idempotently, lists and downloads byte-identical with an attachment disposition', async () => {
    const created = await uploadSingle('résumé (final).png', PNG, 'image/png')
    const first = await caller.ada.confirm({ uploadId: created.upload.id })
    expect(first).toMatchObject({ status: 'confirmed', size: PNG.length, fileName: 'résumé (final).png' })
    expect(await caller.ada.confirm({ uploadId: created.upload.id })).toEqual(first)

    const listed = await caller.ada.list({ route: 'attachment', input: { taskId: ids.acmeTask } })
    expect(listed.map((u) => u.id)).toContain(created.upload.id)
    expect(JSON.stringify(listed)).not.toContain('uploads/')

    const { url } = await caller.ada.download({ uploadId: created.upload.id })
    const response = await fetch(url)
    expect(response.status).toBe(200)
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(PNG)
    expect(response.headers.get('content-disposition')).toBe(
      `attachment; filename="resume (final).png"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%28final%29.png`,
    )
  })

  it('gets 403 from the bucket for a larger body or another Content-Type than signed', async () => {
    const created = await caller.ada.create({
      route: 'attachment',
      input: { taskId: ids.acmeTask },
      fileName: 'a.png',
      size: PNG.length,
      mimeType: 'image/png',
    })
    const signed = await caller.ada.sign({
      uploadId: created.upload.id,
      request: { method: 'PUT', key: created.key },
    })
    expect((await put(signed, new Uint8Array([...PNG, 1, 2, 3]))).status).toBe(403)
    expect((await put(signed, PNG, { 'content-type': 'text/html' })).status).toBe(403)
    expect(await bucket.storage.head(created.key)).toBeNull()
  })

  it('refuses to sign a key that is not the upload’s own, or a multipart request for a single-PUT file', async () => {
    const created = await caller.ada.create({
      route: 'attachment',
      input: { taskId: ids.acmeTask },
      fileName: 'a.png',
      size: 100,
      mimeType: 'image/png',
    })
    await expectRefusal(
      caller.ada.sign({
        uploadId: created.upload.id,
        request: { method: 'PUT', key: `${created.key}-other` },
      }),
      'FORBIDDEN',
      'FORBIDDEN',
    )
    await expectRefusal(
      caller.ada.sign({ uploadId: created.upload.id, request: { method: 'POST', key: created.key } }),
      'BAD_REQUEST',
      'INVALID_INPUT',
    )
  })
})

describe('confirm checks the object', () => {
  it('keeps a missing object pending and says so', async () => {
    const created = await caller.ada.create({
      route: 'attachment',
      input: { taskId: ids.acmeTask },
      fileName: 'm.png',
      size: 100,
      mimeType: 'image/png',
    })
    await expectRefusal(
      caller.ada.confirm({ uploadId: created.upload.id }),
      'PRECONDITION_FAILED',
      'OBJECT_MISSING',
    )
    const row = await db.prisma.upkitUpload.findUniqueOrThrow({
      where: { id: created.upload.id },
      select: { status: true },
    })
    expect(row.status).toBe('PENDING')
  })

  it('fails a too-short object: deletes it, marks the row FAILED, lists nothing', async () => {
    const created = await caller.ada.create({
      route: 'attachment',
      input: { taskId: ids.acmeTask },
      fileName: 's.png',
      size: PNG.length,
      mimeType: 'image/png',
    })
    // Only a bucket-side writer can produce a short object (the signed URL refuses one): simulate it.
    await bucket.storage.putObject({
      key: created.key,
      body: PNG.subarray(0, 100),
      contentType: 'image/png',
      contentLength: 100,
    })
    await expectRefusal(
      caller.ada.confirm({ uploadId: created.upload.id }),
      'PRECONDITION_FAILED',
      'OBJECT_SIZE_MISMATCH',
    )
    expect(await bucket.storage.head(created.key)).toBeNull()
    const row = await db.prisma.upkitUpload.findUniqueOrThrow({
      where: { id: created.upload.id },
      select: { status: true },
    })
    expect(row.status).toBe('FAILED')
    expect(
      (await caller.ada.list({ route: 'attachment', input: { taskId: ids.acmeTask } })).map((u) => u.id),
    ).not.toContain(created.upload.id)
    await expectRefusal(caller.ada.confirm({ uploadId: created.upload.id }), 'CONFLICT', 'UPLOAD_NOT_PENDING')
  })

  it('fails HTML bytes declared as PNG and leaves no object and no confirmed row', async () => {
    const created = await uploadSingle('evil.png', HTML, 'image/png')
    const error = await expectRefusal(
      caller.ada.confirm({ uploadId: created.upload.id }),
      'UNSUPPORTED_MEDIA_TYPE',
      'OBJECT_TYPE_MISMATCH',
    )
    expect(error.message).toBe('The content of "evil.png" is not image/png.')
    expect(await bucket.storage.head(created.key)).toBeNull()
    const confirmed = await db.prisma.upkitUpload.count({
      where: { id: created.upload.id, status: 'CONFIRMED' },
    })
    expect(confirmed).toBe(0)
  })
})

describe('tenancy', () => {
  it("gives eve NOT_FOUND for every procedure on ada's upload", async () => {
    const created = await uploadSingle('secret.png', PNG, 'image/png')
    await caller.ada.confirm({ uploadId: created.upload.id })
    const uploadId = created.upload.id
    await expectRefusal(
      caller.eve.sign({ uploadId, request: { method: 'PUT', key: created.key } }),
      'NOT_FOUND',
    )
    await expectRefusal(caller.eve.confirm({ uploadId }), 'NOT_FOUND')
    await expectRefusal(caller.eve.download({ uploadId }), 'NOT_FOUND')
    await expectRefusal(caller.eve.delete({ uploadId }), 'NOT_FOUND')
    await expectRefusal(caller.eve.cancel({ uploadId }), 'NOT_FOUND')
    await expectRefusal(
      caller.eve.list({ route: 'attachment', input: { taskId: ids.acmeTask } }),
      'NOT_FOUND',
    )
    expect(await bucket.storage.head(created.key)).not.toBeNull()
  })

  it("refuses to sign ada's key through one of eve's own uploads", async () => {
    const adas = await caller.ada.create({
      route: 'attachment',
      input: { taskId: ids.acmeTask },
      fileName: 'a.png',
      size: 10,
      mimeType: 'image/png',
    })
    const eves = await caller.eve.create({
      route: 'attachment',
      input: { taskId: ids.globexTask },
      fileName: 'e.png',
      size: 10,
      mimeType: 'image/png',
    })
    await expectRefusal(
      caller.eve.sign({ uploadId: eves.upload.id, request: { method: 'PUT', key: adas.key } }),
      'FORBIDDEN',
    )
  })
})

describe('multipart', () => {
  const big = new Uint8Array(randomBytes(33 * MiB + 7))

  async function startMultipart() {
    const created = await caller.ada.create({
      route: 'attachment',
      input: { taskId: ids.acmeTask },
      fileName: 'big.bin',
      size: big.length,
      mimeType: '',
    })
    if (created.transfer.type !== 'multipart') throw new Error('expected a multipart plan')
    if (!created.s3UploadId) throw new Error('expected the multipart upload to be created')
    return { created, plan: created.transfer, s3UploadId: created.s3UploadId }
  }

  async function complete(
    created: { upload: { id: string }; key: string },
    s3UploadId: string,
    parts: { partNumber: number; etag: string }[],
  ) {
    const signed = await caller.ada.sign({
      uploadId: created.upload.id,
      request: { method: 'POST', key: created.key, uploadId: s3UploadId },
    })
    const xml = `<CompleteMultipartUpload>${parts.map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${p.etag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`
    return fetch(signed.url, { method: 'POST', headers: signed.headers, body: xml })
  }

  it('creates the multipart upload on the server, records it on the row and signs the first parts', async () => {
    const { created, plan, s3UploadId } = await startMultipart()
    expect(created.signedPut).toBeNull()
    const row = await db.prisma.upkitUpload.findUniqueOrThrow({
      where: { id: created.upload.id },
      select: { multipartUploadId: true, status: true },
    })
    expect(row).toEqual({ multipartUploadId: s3UploadId, status: 'PENDING' })
    expect(
      (await bucket.storage.listMultipartUploads({ prefix: created.key })).map((u) => u.uploadId),
    ).toEqual([s3UploadId])
    expect(created.signedParts.map((p) => p.partNumber)).toEqual(
      Array.from({ length: plan.partCount }, (_, i) => i + 1),
    )

    // Every URL signs its part's exact length: one byte more or less is refused, the right bytes go through.
    const parts: { partNumber: number; etag: string }[] = []
    for (const signed of created.signedParts) {
      const n = signed.partNumber
      const chunk = big.subarray((n - 1) * plan.partSize, Math.min(big.length, n * plan.partSize))
      const request = { ...signed, method: 'PUT' }
      expect((await put(request, chunk.subarray(1))).status).toBe(403)
      expect((await put(request, big.subarray(0, chunk.length + 1))).status).toBe(403)
      const response = await put(request, chunk)
      expect(response.status).toBe(200)
      parts.push({ partNumber: n, etag: response.headers.get('etag') as string })
    }
    expect((await complete(created, s3UploadId, parts)).status).toBe(200)
    expect((await caller.ada.confirm({ uploadId: created.upload.id })).size).toBe(big.length)
    const { url } = await caller.ada.download({ uploadId: created.upload.id })
    expect(Buffer.compare(Buffer.from(await (await fetch(url)).arrayBuffer()), Buffer.from(big))).toBe(0)
  })

  it(`signs only the first ${CREATE_SIGNED_PARTS} parts at create; signParts signs the rest`, async () => {
    const created = await caller.ada.create({
      route: 'attachment',
      input: { taskId: ids.acmeTask },
      fileName: 'huge.bin',
      size: 2 * GiB,
      mimeType: '',
    })
    if (created.transfer.type !== 'multipart' || !created.s3UploadId) throw new Error('expected multipart')
    expect(created.transfer.partCount).toBeGreaterThan(CREATE_SIGNED_PARTS)
    expect(created.signedParts.map((p) => p.partNumber)).toEqual(
      Array.from({ length: CREATE_SIGNED_PARTS }, (_, i) => i + 1),
    )
    const later = await caller.ada.signParts({
      uploadId: created.upload.id,
      s3UploadId: created.s3UploadId,
      partNumbers: [CREATE_SIGNED_PARTS + 1, created.transfer.partCount],
    })
    expect(later.map((p) => p.partNumber)).toEqual([CREATE_SIGNED_PARTS + 1, created.transfer.partCount])
    await caller.ada.cancel({ uploadId: created.upload.id })
  })

  it('cancel right after create aborts the server-created multipart upload and marks the row CANCELLED', async () => {
    const { created, s3UploadId } = await startMultipart()
    expect(
      (await bucket.storage.listMultipartUploads({ prefix: created.key })).map((u) => u.uploadId),
    ).toEqual([s3UploadId])
    await caller.ada.cancel({ uploadId: created.upload.id })
    expect(await bucket.storage.listMultipartUploads({ prefix: created.key })).toEqual([])
    // Kept (without bytes) until its signed URLs expire; the sweeper removes it then (integrity.test.ts).
    expect((await db.prisma.upkitUpload.findUniqueOrThrow({ where: { id: created.upload.id } })).status).toBe(
      'CANCELLED',
    )
    // The URLs handed out with create are dead with it.
    const first = created.signedParts[0]
    if (!first) throw new Error('expected a signed part')
    expect((await put({ ...first, method: 'PUT' }, big.subarray(0, 8 * MiB))).status).toBe(404)
  })

  it("still signs a browser-side Create (the stock @uppy/aws-s3 flow), records that upload's id and aborts create's", async () => {
    const { created } = await startMultipart()
    const createRequest = await caller.ada.sign({
      uploadId: created.upload.id,
      request: { method: 'POST', key: created.key },
    })
    const response = await fetch(createRequest.url, { method: 'POST', headers: createRequest.headers })
    expect(response.status).toBe(200)
    const own = /<UploadId>([^<]+)<\/UploadId>/.exec(await response.text())?.[1]
    if (!own) throw new Error('no UploadId in the CreateMultipartUpload answer')
    await caller.ada.sign({
      uploadId: created.upload.id,
      request: { method: 'PUT', key: created.key, uploadId: own, partNumber: 1 },
    })
    const row = await db.prisma.upkitUpload.findUniqueOrThrow({
      where: { id: created.upload.id },
      select: { multipartUploadId: true },
    })
    expect(row.multipartUploadId).toBe(own)
    // The one create made is aborted as soon as the client's own is in use; cancel aborts that one.
    expect(
      (await bucket.storage.listMultipartUploads({ prefix: created.key })).map((u) => u.uploadId),
    ).toEqual([own])
    await caller.ada.cancel({ uploadId: created.upload.id })
    expect(await bucket.storage.listMultipartUploads({ prefix: created.key })).toEqual([])
  })

  it('plans whole-MiB parts chosen by the server', async () => {
    const created = await caller.ada.create({
      route: 'attachment',
      input: { taskId: ids.acmeTask },
      fileName: 'big.bin',
      size: 40 * MiB,
      mimeType: '',
    })
    expect(created.transfer).toEqual({ type: 'multipart', size: 40 * MiB, partSize: 8 * MiB, partCount: 5 })
  })

  it('signs each part with its exact length, completes, confirms and downloads identical bytes', async () => {
    const { created, plan, s3UploadId } = await startMultipart()
    const parts: { partNumber: number; etag: string }[] = []
    // Part 1 through the per-request hook, the rest signed in one batch: both sign the exact part length.
    const first = await caller.ada.sign({
      uploadId: created.upload.id,
      request: { method: 'PUT', key: created.key, uploadId: s3UploadId, partNumber: 1 },
    })
    const rest = await caller.ada.signParts({
      uploadId: created.upload.id,
      s3UploadId,
      partNumbers: Array.from({ length: plan.partCount - 1 }, (_, i) => i + 2),
    })
    expect(rest.map((p) => p.partNumber)).toEqual(Array.from({ length: plan.partCount - 1 }, (_, i) => i + 2))
    for (const [index, signed] of [{ ...first, partNumber: 1 }, ...rest].entries()) {
      const n = index + 1
      const chunk = big.subarray((n - 1) * plan.partSize, Math.min(big.length, n * plan.partSize))
      if (n === 1) expect((await put({ ...signed, method: 'PUT' }, chunk.subarray(1))).status).toBe(403)
      const response = await put({ ...signed, method: 'PUT' }, chunk)
      expect(response.status).toBe(200)
      parts.push({ partNumber: n, etag: response.headers.get('etag') as string })
    }
    await expectRefusal(
      caller.ada.signParts({ uploadId: created.upload.id, s3UploadId, partNumbers: [1, plan.partCount + 1] }),
      'BAD_REQUEST',
      'INVALID_INPUT',
    )
    await expectRefusal(
      caller.ada.sign({
        uploadId: created.upload.id,
        request: { method: 'PUT', key: created.key, uploadId: s3UploadId, partNumber: plan.partCount + 1 },
      }),
      'BAD_REQUEST',
      'INVALID_INPUT',
    )
    expect((await complete(created, s3UploadId, parts)).status).toBe(200)

    const confirmed = await caller.ada.confirm({ uploadId: created.upload.id })
    expect(confirmed.size).toBe(big.length)
    const { url } = await caller.ada.download({ uploadId: created.upload.id })
    expect(Buffer.compare(Buffer.from(await (await fetch(url)).arrayBuffer()), Buffer.from(big))).toBe(0)
  })

  it('cancel aborts the multipart upload in the bucket and marks the row CANCELLED', async () => {
    const { created, plan, s3UploadId } = await startMultipart()
    const signed = await caller.ada.sign({
      uploadId: created.upload.id,
      request: { method: 'PUT', key: created.key, uploadId: s3UploadId, partNumber: 1 },
    })
    expect((await put(signed, big.subarray(0, plan.partSize))).status).toBe(200)
    expect((await bucket.storage.listMultipartUploads({ prefix: created.key })).length).toBe(1)
    await caller.ada.cancel({ uploadId: created.upload.id })
    expect(await bucket.storage.listMultipartUploads({ prefix: created.key })).toEqual([])
    expect((await db.prisma.upkitUpload.findUniqueOrThrow({ where: { id: created.upload.id } })).status).toBe(
      'CANCELLED',
    )
  })
})

describe('delete and sweep', () => {
  it('delete removes the row and then the object', async () => {
    const created = await uploadSingle('d.png', PNG, 'image/png')
    await caller.ada.confirm({ uploadId: created.upload.id })
    await caller.ada.delete({ uploadId: created.upload.id })
    expect(await bucket.storage.head(created.key)).toBeNull()
    expect(await db.prisma.upkitUpload.count({ where: { id: created.upload.id } })).toBe(0)
  })

  it('the sweeper removes expired pending uploads and orphan objects, and keeps confirmed ones', async () => {
    const kept = await uploadSingle('kept.png', PNG, 'image/png')
    await caller.ada.confirm({ uploadId: kept.upload.id })
    const abandoned = await uploadSingle('abandoned.png', PNG, 'image/png')
    const orphanKey = `uploads/${ids.acme}/attachment/00000000-0000-4000-8000-000000000000`
    await bucket.storage.putObject({
      key: orphanKey,
      body: PNG,
      contentType: 'image/png',
      contentLength: PNG.length,
    })

    const later = new Date(Date.now() + 25 * 60 * 60 * 1000)
    const report = await createTestApp(db, bucket, { now: () => later }).upkit.sweep()
    expect(report.expiredRows).toBeGreaterThanOrEqual(1)
    expect(report.orphanObjects).toBeGreaterThanOrEqual(1)
    expect(await bucket.storage.head(abandoned.key)).toBeNull()
    expect(await bucket.storage.head(orphanKey)).toBeNull()
    expect(await db.prisma.upkitUpload.count({ where: { id: abandoned.upload.id } })).toBe(0)
    expect(await bucket.storage.head(kept.key)).not.toBeNull()

    // Nothing is left without a row, and every confirmed row has its object.
    const keys = new Set<string>()
    for await (const object of bucket.storage.list({ prefix: 'uploads/' })) keys.add(object.key)
    const rows = await db.prisma.upkitUpload.findMany({
      where: { key: { in: [...keys] } },
      select: { key: true },
    })
    expect(rows.length).toBe(keys.size)
    for (const row of await db.prisma.upkitUpload.findMany({
      where: { status: 'CONFIRMED' },
      select: { key: true },
    })) {
      expect(keys.has(row.key)).toBe(true)
    }
  })
})
