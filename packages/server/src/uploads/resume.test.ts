import { randomBytes, randomUUID } from 'node:crypto'
import { MiB } from '@upkit/core'
import { startTestBucket, startTestDatabase, type TestBucket, type TestDatabase } from '@upkit/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, expectRefusal } from '../test-support/test-app'

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...randomBytes(2000)])

let db: TestDatabase
let bucket: TestBucket
let app: ReturnType<typeof createTestApp>
let acme: ReturnType<typeof app.tenant>
let ada: ReturnType<typeof app.caller>

beforeAll(async () => {
  db = await startTestDatabase()
  bucket = await startTestBucket()
  app = createTestApp(db, bucket)
  acme = app.tenant()
  ada = app.caller(acme.user)
})

afterAll(async () => {
  await bucket?.close()
  await db?.close()
})

function put(request: { url: string; headers: Record<string, string> }, body: Uint8Array) {
  return fetch(request.url, { method: 'PUT', headers: request.headers, body })
}

function createPng() {
  return ada.create({
    route: 'attachment',
    input: { taskId: acme.taskId },
    fileName: 'a.png',
    size: PNG.length,
    mimeType: 'image/png',
  })
}

describe('resume', () => {
  it('answers a multipart upload as create did, unsigned; the missing parts go up and the file is identical', async () => {
    const big = new Uint8Array(randomBytes(33 * MiB + 7))
    const created = await ada.create({
      route: 'attachment',
      input: { taskId: acme.taskId },
      fileName: 'big.bin',
      size: big.length,
      mimeType: '',
    })
    if (created.transfer.type !== 'multipart' || !created.s3UploadId) throw new Error('expected multipart')
    const plan = created.transfer
    const first = created.signedParts[0]
    if (!first) throw new Error('expected a signed part')
    const part1 = await put(first, big.subarray(0, plan.partSize))
    expect(part1.status).toBe(200)

    // The page reloads: all it kept is the upload id.
    const resumed = await ada.resume({ uploadId: created.upload.id })
    expect(resumed).toEqual({
      upload: created.upload,
      key: created.key,
      transfer: created.transfer,
      expiresAt: created.expiresAt,
      s3UploadId: created.s3UploadId,
      signedPut: null,
      signedParts: [],
    })

    // ListParts (signed through `sign`) says what is there; only the rest is signed and sent.
    const list = await ada.sign({
      uploadId: created.upload.id,
      request: { method: 'GET', key: resumed.key, uploadId: created.s3UploadId },
    })
    const listed = await (await fetch(list.url, { headers: list.headers })).text()
    expect([...listed.matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => Number(m[1]))).toEqual([1])
    const missing = Array.from({ length: plan.partCount - 1 }, (_, i) => i + 2)
    const signed = await ada.signParts({
      uploadId: created.upload.id,
      s3UploadId: created.s3UploadId,
      partNumbers: missing,
    })
    const parts = [{ partNumber: 1, etag: part1.headers.get('etag') as string }]
    for (const part of signed) {
      const n = part.partNumber
      const response = await put(part, big.subarray((n - 1) * plan.partSize, n * plan.partSize))
      expect(response.status).toBe(200)
      parts.push({ partNumber: n, etag: response.headers.get('etag') as string })
    }
    const completeRequest = await ada.sign({
      uploadId: created.upload.id,
      request: { method: 'POST', key: resumed.key, uploadId: created.s3UploadId },
    })
    const xml = `<CompleteMultipartUpload>${parts.map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${p.etag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`
    const completed = await fetch(completeRequest.url, {
      method: 'POST',
      headers: completeRequest.headers,
      body: xml,
    })
    expect(completed.status).toBe(200)
    expect((await ada.confirm({ uploadId: created.upload.id })).status).toBe('confirmed')
    const { url } = await ada.download({ uploadId: created.upload.id })
    expect(Buffer.compare(Buffer.from(await (await fetch(url)).arrayBuffer()), Buffer.from(big))).toBe(0)
  })

  it('answers a single-PUT upload with its plan and no multipart upload; a fresh PUT signed by sign works', async () => {
    const created = await createPng()
    const resumed = await ada.resume({ uploadId: created.upload.id })
    expect(resumed).toMatchObject({
      transfer: { type: 'single', size: PNG.length },
      s3UploadId: null,
      signedPut: null,
      signedParts: [],
    })
    const signed = await ada.sign({
      uploadId: created.upload.id,
      request: { method: 'PUT', key: resumed.key },
    })
    expect((await put(signed, PNG)).status).toBe(200)
    expect((await ada.confirm({ uploadId: created.upload.id })).status).toBe('confirmed')
  })

  it('is NOT_FOUND for a colleague in the same company, another company and a revoked person', async () => {
    const created = await createPng()
    const uploadId = created.upload.id
    const colleague = app.caller({ id: randomUUID(), companyId: acme.companyId })
    await expectRefusal(colleague.resume({ uploadId }), 'NOT_FOUND', 'NOT_FOUND')
    const globex = app.tenant()
    await expectRefusal(app.caller(globex.user).resume({ uploadId }), 'NOT_FOUND', 'NOT_FOUND')
    await expectRefusal(app.caller(null).resume({ uploadId }), 'UNAUTHORIZED')
    await expectRefusal(ada.resume({ uploadId: randomUUID() }), 'NOT_FOUND', 'NOT_FOUND')
    // The task moves to another company: ada's authorize now refuses, so her own upload is gone for her too.
    const moved = app.tenant()
    const movedAda = app.caller(moved.user)
    const own = await movedAda.create({
      route: 'attachment',
      input: { taskId: moved.taskId },
      fileName: 'a.png',
      size: PNG.length,
      mimeType: 'image/png',
    })
    expect((await movedAda.resume({ uploadId: own.upload.id })).key).toBe(own.key)
    app.tasks.set(moved.taskId, randomUUID())
    await expectRefusal(movedAda.resume({ uploadId: own.upload.id }), 'NOT_FOUND', 'NOT_FOUND')
  })

  it('refuses confirmed and cancelled uploads (UPLOAD_NOT_PENDING) and expired ones (UPLOAD_EXPIRED)', async () => {
    const confirmed = await createPng()
    expect((await put(confirmed.signedPut as NonNullable<typeof confirmed.signedPut>, PNG)).status).toBe(200)
    await ada.confirm({ uploadId: confirmed.upload.id })
    await expectRefusal(ada.resume({ uploadId: confirmed.upload.id }), 'CONFLICT', 'UPLOAD_NOT_PENDING')

    const cancelled = await createPng()
    await ada.cancel({ uploadId: cancelled.upload.id })
    await expectRefusal(ada.resume({ uploadId: cancelled.upload.id }), 'CONFLICT', 'UPLOAD_NOT_PENDING')

    const pending = await createPng()
    const later = new Date(Date.parse(pending.expiresAt) + 1000)
    const lateApp = createTestApp(db, bucket, { now: () => later })
    lateApp.tasks.set(acme.taskId, acme.companyId)
    await expectRefusal(
      lateApp.caller(acme.user).resume({ uploadId: pending.upload.id }),
      'PRECONDITION_FAILED',
      'UPLOAD_EXPIRED',
    )
  })
})
