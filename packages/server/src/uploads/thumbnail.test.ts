import { randomBytes } from 'node:crypto'
import { KiB } from '@upkit/core'
import { prismaUploadStore } from '@upkit/store-prisma'
import { startTestBucket, startTestDatabase, type TestBucket, type TestDatabase } from '@upkit/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { JPEG_3X2, WEBP_3X2 } from '../test-support/chromium-images'
import { makePng } from '../test-support/png'
import { createTestApp, expectRefusal } from '../test-support/test-app'

const PHOTO = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...randomBytes(3000)])
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')

let db: TestDatabase
let bucket: TestBucket
let app: ReturnType<typeof createTestApp>
let acme: ReturnType<typeof app.tenant>
let ada: ReturnType<typeof app.caller>
/** Every `select` the store sent for upkit's table, by operation: lists must never ask for the bytes. */
const selects: { operation: string; select: Record<string, unknown> | undefined }[] = []

beforeAll(async () => {
  db = await startTestDatabase()
  bucket = await startTestBucket()
  const watched = db.prisma.$extends({
    query: {
      upkitUpload: {
        $allOperations({ operation, args, query }) {
          selects.push({ operation, select: (args as { select?: Record<string, unknown> }).select })
          return query(args)
        },
      },
    },
  })
  app = createTestApp(db, bucket, { store: prismaUploadStore(watched as never) as never })
  acme = app.tenant()
  ada = app.caller(acme.user)
})

afterAll(async () => {
  await bucket?.close()
  await db?.close()
})

/** A PENDING upload whose object is in the bucket: ready to confirm. */
async function uploaded(fileName = 'photo.png') {
  const created = await ada.create({
    route: 'attachment',
    input: { taskId: acme.taskId },
    fileName,
    size: PHOTO.length,
    mimeType: 'image/png',
  })
  const signed = created.signedPut as NonNullable<typeof created.signedPut>
  const response = await fetch(signed.url, { method: 'PUT', headers: signed.headers, body: PHOTO })
  expect(response.status).toBe(200)
  return created
}

function stored(id: string) {
  return db.prisma.upkitUpload.findUniqueOrThrow({
    where: { id },
    select: { status: true, thumbnail: true, thumbnailType: true },
  })
}

describe('confirm with a thumbnail', () => {
  it('stores a WebP thumbnail with the confirmation; the record names its URL and who uploaded it', async () => {
    const created = await uploaded()
    const record = await ada.confirm({ uploadId: created.upload.id, thumbnail: b64(WEBP_3X2) })
    expect(record).toMatchObject({
      status: 'confirmed',
      thumbnailUrl: `/files/${created.upload.id}/thumbnail`,
      uploadedBy: acme.user.id,
    })
    const row = await stored(created.upload.id)
    expect(row.thumbnailType).toBe('image/webp')
    expect(Buffer.from(row.thumbnail as Uint8Array)).toEqual(WEBP_3X2)
    const listed = await ada.list({ route: 'attachment', input: { taskId: acme.taskId } })
    expect(listed.find((u) => u.id === created.upload.id)).toEqual(record)
  })

  it('takes PNG and JPEG too, typed by their bytes; without one the record has no thumbnail URL', async () => {
    const png = await uploaded()
    const small = makePng(256, 40)
    expect(
      (await ada.confirm({ uploadId: png.upload.id, thumbnail: b64(small) })).thumbnailUrl,
    ).not.toBeNull()
    expect((await stored(png.upload.id)).thumbnailType).toBe('image/png')
    const jpeg = await uploaded()
    await ada.confirm({ uploadId: jpeg.upload.id, thumbnail: b64(JPEG_3X2) })
    expect((await stored(jpeg.upload.id)).thumbnailType).toBe('image/jpeg')
    const none = await uploaded()
    expect(await ada.confirm({ uploadId: none.upload.id })).toMatchObject({
      status: 'confirmed',
      thumbnailUrl: null,
      uploadedBy: acme.user.id,
    })
  })

  it('refuses a bad thumbnail with THUMBNAIL_INVALID and leaves the upload pending; confirming again works', async () => {
    const created = await uploaded()
    const uploadId = created.upload.id
    const noisy = makePng(100, 100, 'noise')
    expect(noisy.length).toBeGreaterThan(16 * KiB)
    const gif = Buffer.from('R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs=', 'base64')
    const bad = {
      'over 16 KiB': b64(noisy),
      'wider than 256 px': b64(makePng(257, 1)),
      'taller than 256 px': b64(makePng(1, 257)),
      'a GIF': b64(gif),
      'SVG markup': b64(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>')),
      'cut off': b64(makePng(10, 10).subarray(0, 60)),
      'not base64': 'not base64!',
      empty: '',
    }
    for (const [why, thumbnail] of Object.entries(bad)) {
      const error = await expectRefusal(
        ada.confirm({ uploadId, thumbnail }),
        'UNPROCESSABLE_CONTENT',
        'THUMBNAIL_INVALID',
      )
      expect(error.message, why).toContain(`thumbnail of "photo.png"`)
      expect(await stored(uploadId), why).toEqual({ status: 'PENDING', thumbnail: null, thumbnailType: null })
    }
    expect(await bucket.storage.head(created.key)).not.toBeNull()
    expect((await ada.confirm({ uploadId, thumbnail: b64(WEBP_3X2) })).thumbnailUrl).not.toBeNull()
  })

  it('keeps the first thumbnail: a repeated confirm with another one changes nothing', async () => {
    const created = await uploaded()
    const first = await ada.confirm({ uploadId: created.upload.id, thumbnail: b64(WEBP_3X2) })
    expect(await ada.confirm({ uploadId: created.upload.id, thumbnail: b64(JPEG_3X2) })).toEqual(first)
    const noThumbnail = await uploaded()
    await ada.confirm({ uploadId: noThumbnail.upload.id })
    expect(
      (await ada.confirm({ uploadId: noThumbnail.upload.id, thumbnail: b64(JPEG_3X2) })).thumbnailUrl,
    ).toBeNull()
    expect(await stored(created.upload.id)).toMatchObject({ thumbnailType: 'image/webp' })
    expect(await stored(noThumbnail.upload.id)).toEqual({
      status: 'CONFIRMED',
      thumbnail: null,
      thumbnailType: null,
    })
  })

  it('never selects the thumbnail bytes except to serve one thumbnail', async () => {
    const created = await uploaded()
    await ada.confirm({ uploadId: created.upload.id, thumbnail: b64(WEBP_3X2) })
    selects.length = 0
    await ada.list({ route: 'attachment', input: { taskId: acme.taskId } })
    await ada.download({ uploadId: created.upload.id })
    await app.upkit.sweep()
    const reads = selects.filter(({ operation }) => operation.startsWith('find'))
    expect(reads.length).toBeGreaterThan(0)
    for (const { operation, select } of reads) {
      expect(select, operation).toBeDefined()
      expect(select?.thumbnail, operation).toBeUndefined()
    }
    expect(selects.some(({ operation }) => operation === 'findMany')).toBe(true)
  })
})
