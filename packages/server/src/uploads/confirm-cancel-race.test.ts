import { randomBytes, randomUUID } from 'node:crypto'
import type { CreatedUpload } from '@upkit/core'
import type { BucketStorage } from '@upkit/storage'
import { startTestBucket, startTestDatabase, type TestBucket, type TestDatabase } from '@upkit/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp } from '../test-support/test-app'

let db: TestDatabase
let bucket: TestBucket
let app: ReturnType<typeof createTestApp>
/** Runs once, right after confirm's read of the object: a cancel arriving between that read and its verdict. */
let afterRead: (() => Promise<unknown>) | null = null

beforeAll(async () => {
  db = await startTestDatabase()
  bucket = await startTestBucket()
  const real = bucket.storage
  const storage = new Proxy(real, {
    get(target, property) {
      if (property === 'readStart') {
        return async (...args: Parameters<BucketStorage['readStart']>) => {
          const read = await target.readStart(...args)
          const hook = afterRead
          afterRead = null
          await hook?.()
          return read
        }
      }
      const value = Reflect.get(target, property)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  app = createTestApp(db, { ...bucket, storage })
})

afterAll(async () => {
  await bucket?.close()
  await db?.close()
})

describe('a confirm that refuses the object races a cancel', () => {
  it("keeps the cancel's placeholder: the object is deleted only by the call that flipped the row to FAILED", async () => {
    const { companyId, taskId } = app.tenant()
    const person = app.caller({ id: randomUUID(), companyId })
    // Declared a PNG, sent as other bytes: confirm's content check refuses it.
    const bytes = randomBytes(2048)
    const created: CreatedUpload = await person.create({
      route: 'commentImage',
      input: { taskId },
      fileName: 'not-a.png',
      size: bytes.length,
      mimeType: 'image/png',
    })
    const put = created.signedPut as NonNullable<CreatedUpload['signedPut']>
    expect((await fetch(put.url, { method: 'PUT', headers: put.headers, body: bytes })).status).toBe(200)

    afterRead = () => person.cancel({ uploadId: created.upload.id })
    await expect(person.confirm({ uploadId: created.upload.id })).rejects.toMatchObject({
      message: expect.stringContaining('not image/png'),
    })

    const row = await db.prisma.upkitUpload.findUniqueOrThrow({
      where: { id: created.upload.id },
      select: { status: true, key: true },
    })
    expect(row.status).toBe('CANCELLED')
    // The empty placeholder the cancel wrote is still there, so URLs signed before the cancel stay refused.
    const placeholder = await bucket.storage.readStart(row.key, 1)
    expect(placeholder?.head.size).toBe(0)
  })
})
