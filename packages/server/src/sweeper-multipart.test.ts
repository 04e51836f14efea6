import { randomUUID } from 'node:crypto'
import { prismaUploadStore } from '@upkit/store-prisma'
import { startTestBucket, startTestDatabase, type TestBucket, type TestDatabase } from '@upkit/testing'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { UploadStore } from './store/upload-store'
import { sweepUploads } from './sweeper'

// Multipart uploads nobody will complete, young ones included: a CreateMultipartUpload whose answer was lost on the
// way and that the SDK sent again leaves a second upload at the key, which no row names. Real PostgreSQL and the
// real local S3 server.

let db: TestDatabase
let bucket: TestBucket
let store: UploadStore<unknown>

beforeAll(async () => {
  db = await startTestDatabase()
  bucket = await startTestBucket()
  store = prismaUploadStore(db.prisma) as UploadStore<unknown>
})

afterAll(async () => {
  await bucket?.close()
  await db?.close()
})

const BODY = new Uint8Array([1, 2, 3])

async function row(status: 'PENDING' | 'CONFIRMED') {
  const id = randomUUID()
  const key = `mpu/tenant/attachment/${id}`
  await db.prisma.upkitUpload.create({
    data: {
      id,
      route: 'attachment',
      tenantId: 'tenant',
      key,
      fileName: 'f.bin',
      mimeType: 'application/octet-stream',
      size: BigInt(BODY.length),
      input: {},
      metadata: {},
      expiresAt: new Date(Date.now() + 24 * 60 * 60 * 1000),
      status,
      ...(status === 'CONFIRMED' ? { confirmedAt: new Date() } : {}),
    },
    select: { id: true },
  })
  return key
}

const openUpload = (key: string) =>
  bucket.storage.createMultipartUpload({ key, contentType: 'application/octet-stream' })

it('aborts a fresh multipart upload at a confirmed key, and keeps those of pending and unknown keys', async () => {
  const confirmed = await row('CONFIRMED')
  await bucket.storage.putObject({
    key: confirmed,
    body: BODY,
    contentType: 'application/octet-stream',
    contentLength: BODY.length,
  })
  // The leftover of a retried create: the upload's own multipart upload was completed into the object.
  await openUpload(confirmed)
  const pending = await row('PENDING')
  const { uploadId: pendingUpload } = await openUpload(pending)
  // No row yet: a create between its row and its answer looks like this; the grace protects it.
  const unknown = `mpu/tenant/attachment/${randomUUID()}`
  const { uploadId: unknownUpload } = await openUpload(unknown)

  const report = await sweepUploads({ store, storage: bucket.storage, keyPrefix: 'mpu/' })

  expect(report.abortedMultipartUploads).toBe(1)
  const open = await bucket.storage.listMultipartUploads({ prefix: 'mpu/' })
  expect(open.map((upload) => upload.uploadId).sort()).toEqual([pendingUpload, unknownUpload].sort())
  expect(await bucket.storage.head(confirmed)).not.toBeNull()
  expect(await db.prisma.upkitUpload.count({ where: { key: confirmed } })).toBe(1)
})
