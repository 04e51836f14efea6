import { randomBytes, randomUUID } from 'node:crypto'
import type { ConfirmManyResult, CreatedUpload, CreateManyResult } from '@upkit/core'
import { prismaUploadStore } from '@upkit/store-prisma'
import { startTestBucket, startTestDatabase, type TestBucket, type TestDatabase } from '@upkit/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { UploadStore } from '../store/upload-store'
import { WEBP_3X2 } from '../test-support/chromium-images'
import { createTestApp } from '../test-support/test-app'

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...randomBytes(2000)])
const png = (fileName: string) => ({ fileName, size: PNG.length, mimeType: 'image/png' })
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')
const codes = (results: readonly ConfirmManyResult[]) => results.map((r) => (r.ok ? 'ok' : r.error.code))

let db: TestDatabase
let bucket: TestBucket
let app: ReturnType<typeof createTestApp>
/** Calls of the store's flips: a route without `onConfirmed` must take the one-statement path. */
const calls = { confirm: 0, confirmMany: 0 }

beforeAll(async () => {
  db = await startTestDatabase()
  bucket = await startTestBucket()
  const store = prismaUploadStore(db.prisma)
  const counted: UploadStore<unknown> = {
    ...store,
    confirm: (...args) => {
      calls.confirm += 1
      return store.confirm(...(args as Parameters<typeof store.confirm>))
    },
    confirmMany: (entries, now) => {
      calls.confirmMany += 1
      return (store.confirmMany as NonNullable<typeof store.confirmMany>)(entries, now)
    },
  }
  app = createTestApp(db, bucket, { store: counted as never })
})

afterAll(async () => {
  await bucket?.close()
  await db?.close()
})

function created(result: CreateManyResult | undefined): CreatedUpload {
  if (!result?.ok) throw new Error(`expected ok, got ${JSON.stringify(result)}`)
  return result.created
}

/** A person of a new company with `names` created on the comment-image route (no `onConfirmed` hook). */
async function commentImages(names: string[]) {
  const { companyId, taskId } = app.tenant()
  const person = app.caller({ id: randomUUID(), companyId })
  const results = await person.createMany({ route: 'commentImage', input: { taskId }, files: names.map(png) })
  return { person, uploads: results.map(created) }
}

async function send(upload: CreatedUpload) {
  const put = upload.signedPut as NonNullable<CreatedUpload['signedPut']>
  expect((await fetch(put.url, { method: 'PUT', headers: put.headers, body: PNG })).status).toBe(200)
}

const stored = (id: string) =>
  db.prisma.upkitUpload.findUniqueOrThrow({
    where: { id },
    select: {
      status: true,
      etag: true,
      thumbnail: true,
      thumbnailType: true,
      multipartUploadId: true,
      confirmedAt: true,
    },
  })

describe('confirmMany of a route without onConfirmed', () => {
  it('flips the checked uploads in one statement; a missing object still fails only its upload', async () => {
    const { person, uploads } = await commentImages(['sent.png', 'never-sent.png', 'also-sent.png'])
    const [sent, neverSent, alsoSent] = uploads as [CreatedUpload, CreatedUpload, CreatedUpload]
    await Promise.all([send(sent), send(alsoSent)])
    const before = { ...calls }
    const results = await person.confirmMany({
      uploads: [sent, neverSent, alsoSent].map((u) => ({ uploadId: u.upload.id })),
    })
    expect(codes(results)).toEqual(['ok', 'OBJECT_MISSING', 'ok'])
    expect({
      confirm: calls.confirm - before.confirm,
      confirmMany: calls.confirmMany - before.confirmMany,
    }).toEqual({ confirm: 0, confirmMany: 1 })
    const statuses = await Promise.all(uploads.map(async (u) => (await stored(u.upload.id)).status))
    expect(statuses).toEqual(['CONFIRMED', 'PENDING', 'CONFIRMED'])
    // Confirming again answers the same records and flips nothing.
    const again = await person.confirmMany({
      uploads: [sent, alsoSent].map((u) => ({ uploadId: u.upload.id })),
    })
    expect(again).toEqual([results[0], results[2]])
  })

  it('stores status, ETag and thumbnail as a single confirm does, and answers the same record', async () => {
    const { person, uploads } = await commentImages(['single.png', 'batched.png', 'plain.png'])
    const [single, batched, plain] = uploads as [CreatedUpload, CreatedUpload, CreatedUpload]
    await Promise.all(uploads.map(send))
    const one = await person.confirm({ uploadId: single.upload.id, thumbnail: b64(WEBP_3X2) })
    const many = await person.confirmMany({
      uploads: [{ uploadId: batched.upload.id, thumbnail: b64(WEBP_3X2) }, { uploadId: plain.upload.id }],
    })
    const [a, b, c] = await Promise.all(uploads.map((u) => stored(u.upload.id)))
    const { confirmedAt: singleAt, thumbnail: singleThumb, ...singleRest } = a as NonNullable<typeof a>
    const { confirmedAt: batchedAt, thumbnail: batchedThumb, ...batchedRest } = b as NonNullable<typeof b>
    expect(batchedRest).toEqual(singleRest)
    expect(singleRest).toMatchObject({
      status: 'CONFIRMED',
      thumbnailType: 'image/webp',
      multipartUploadId: null,
    })
    expect(singleRest.etag).toMatch(/^".+"$/)
    expect(Buffer.from(batchedThumb as Uint8Array)).toEqual(Buffer.from(singleThumb as Uint8Array))
    expect(Buffer.from(batchedThumb as Uint8Array)).toEqual(Buffer.from(WEBP_3X2))
    // Stored in UTC like Prisma's own writes: within the test's seconds of the single confirm's.
    expect(Math.abs((batchedAt as Date).getTime() - (singleAt as Date).getTime())).toBeLessThan(60_000)
    expect(c).toMatchObject({ status: 'CONFIRMED', thumbnail: null, thumbnailType: null })
    const record = many[0]
    if (!record?.ok) throw new Error(`expected ok, got ${JSON.stringify(record)}`)
    // Ids, names and times differ; everything else is the same answer.
    const strip = (r: typeof one) => ({
      ...r,
      id: '',
      fileName: '',
      url: '',
      confirmedAt: '',
      createdAt: '',
      thumbnailUrl: r.thumbnailUrl ? 'yes' : '',
    })
    expect(strip(record.upload)).toEqual(strip(one))
  })

  it('a single confirm of such a route takes the same one-statement flip, not a transaction', async () => {
    const { person, uploads } = await commentImages(['alone.png'])
    const [alone] = uploads as [CreatedUpload]
    await send(alone)
    const before = { ...calls }
    const record = await person.confirm({ uploadId: alone.upload.id, thumbnail: b64(WEBP_3X2) })
    expect({
      confirm: calls.confirm - before.confirm,
      confirmMany: calls.confirmMany - before.confirmMany,
    }).toEqual({ confirm: 0, confirmMany: 1 })
    expect(record).toMatchObject({ status: 'confirmed', thumbnailUrl: expect.any(String) })
    const row = await stored(alone.upload.id)
    expect(row).toMatchObject({ status: 'CONFIRMED', thumbnailType: 'image/webp', multipartUploadId: null })
    expect(Buffer.from(row?.thumbnail as Uint8Array)).toEqual(Buffer.from(WEBP_3X2))
    // Again: answered from the row, nothing flipped a second time.
    expect(await person.confirm({ uploadId: alone.upload.id })).toEqual(record)
    expect(calls.confirmMany - before.confirmMany).toBe(1)
  })
})
