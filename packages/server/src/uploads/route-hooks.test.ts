import { randomBytes } from 'node:crypto'
import { TRPCError } from '@trpc/server'
import { startTestBucket, startTestDatabase, type TestBucket, type TestDatabase } from '@upkit/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, expectRefusal } from '../test-support/test-app'

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...randomBytes(500)])

let db: TestDatabase
let bucket: TestBucket

beforeAll(async () => {
  db = await startTestDatabase()
  bucket = await startTestBucket()
})

afterAll(async () => {
  await bucket?.close()
  await db?.close()
})

/** Creates and sends a PNG to `route` for a fresh tenant; returns the caller and the created upload. */
async function sent(
  app: ReturnType<typeof createTestApp>,
  route: 'attachment' | 'commentImage' = 'attachment',
) {
  const tenant = app.tenant()
  const caller = app.caller(tenant.user)
  const created = await caller.create({
    route,
    input: { taskId: tenant.taskId },
    fileName: 'a.png',
    size: PNG.length,
    mimeType: 'image/png',
  })
  const signed = created.signedPut as NonNullable<typeof created.signedPut>
  expect((await fetch(signed.url, { method: 'PUT', headers: signed.headers, body: PNG })).status).toBe(200)
  return { tenant, caller, created }
}

describe('authorize', () => {
  it('runs on create with the parsed input, and its refusal writes nothing', async () => {
    const app = createTestApp(db, bucket)
    const acme = app.tenant()
    const before = await db.prisma.upkitUpload.count()
    const file = { fileName: 'a.png', size: PNG.length, mimeType: 'image/png' }
    await expectRefusal(
      app.caller(acme.user).create({ route: 'attachment', input: { taskId: app.tenant().taskId }, ...file }),
      'NOT_FOUND',
      'NOT_FOUND',
    )
    await expectRefusal(
      app.caller(acme.user).create({ route: 'attachment', input: { taskId: 'not-a-uuid' }, ...file }),
      'BAD_REQUEST',
      'INVALID_INPUT',
    )
    await expectRefusal(
      // @ts-expect-error an unknown route is a compile error for the app, and a typed refusal at run time
      app.caller(acme.user).create({ route: 'avatar', input: {}, ...file }),
      'BAD_REQUEST',
      'INVALID_INPUT',
    )
    await expectRefusal(
      app.caller(null).create({ route: 'attachment', input: { taskId: acme.taskId }, ...file }),
      'UNAUTHORIZED',
    )
    expect(await db.prisma.upkitUpload.count()).toBe(before)
  })

  it('runs again on every later call, so revoking access takes effect at once', async () => {
    const app = createTestApp(db, bucket)
    const { tenant, caller, created } = await sent(app)
    await caller.confirm({ uploadId: created.upload.id })
    expect(await caller.download({ uploadId: created.upload.id })).toHaveProperty('url')
    // The task moves to another company (or is deleted): its files stop answering for the old company.
    app.tasks.set(tenant.taskId, app.tenant().companyId)
    await expectRefusal(caller.download({ uploadId: created.upload.id }), 'NOT_FOUND', 'NOT_FOUND')
    await expectRefusal(caller.delete({ uploadId: created.upload.id }), 'NOT_FOUND', 'NOT_FOUND')
    await expectRefusal(
      caller.list({ route: 'attachment', input: { taskId: tenant.taskId } }),
      'NOT_FOUND',
      'NOT_FOUND',
    )
    expect(await bucket.storage.head(created.key)).not.toBeNull()
  })

  it("failing (not refusing) on confirm fails the call, so the client retries; it is not the upload's NOT_FOUND", async () => {
    const app = createTestApp(db, bucket)
    const { caller, created } = await sent(app)
    // The app's own lookup breaks mid-call, as when its database restarts.
    const lookup = app.tasks.get
    app.tasks.get = () => {
      throw new Error('Connection terminated unexpectedly')
    }
    try {
      await expect(caller.confirm({ uploadId: created.upload.id })).rejects.toMatchObject({
        code: 'INTERNAL_SERVER_ERROR',
      })
      await expect(caller.confirmMany({ uploads: [{ uploadId: created.upload.id }] })).rejects.toMatchObject({
        code: 'INTERNAL_SERVER_ERROR',
      })
    } finally {
      app.tasks.get = lookup
    }
    // Once the lookup works again, the same confirm goes through.
    expect(await caller.confirm({ uploadId: created.upload.id })).toMatchObject({ status: 'confirmed' })
  })
})

describe('onConfirmed', () => {
  it('runs inside the transaction that confirms: it sees the row confirmed, other connections do not yet', async () => {
    const seen: { inside?: string; outside?: string | undefined } = {}
    const app = createTestApp(db, bucket, {
      hooks: {
        onConfirmed: async ({ upload, tx, metadata, ownerId }) => {
          expect(metadata.taskId).toBe(ownerId)
          seen.inside = (
            await tx.upkitUpload.findUniqueOrThrow({ where: { id: upload.id }, select: { status: true } })
          ).status
          seen.outside = (
            await db.prisma.upkitUpload.findUnique({ where: { id: upload.id }, select: { status: true } })
          )?.status
        },
      },
    })
    const { caller, created } = await sent(app)
    expect(await caller.confirm({ uploadId: created.upload.id })).toMatchObject({ status: 'confirmed' })
    expect(seen).toEqual({ inside: 'CONFIRMED', outside: 'PENDING' })
    expect(app.confirmedHooks.filter((h) => h.uploadId === created.upload.id)).toHaveLength(1)
    // Idempotent: a second confirm answers the same and does not run the hook again.
    await caller.confirm({ uploadId: created.upload.id })
    expect(app.confirmedHooks.filter((h) => h.uploadId === created.upload.id)).toHaveLength(1)
  })

  it('that fails leaves the upload unconfirmed (FAILED) and removes the object; the client learns HOOK_FAILED', async () => {
    const app = createTestApp(db, bucket, {
      hooks: {
        onConfirmed: async () => {
          throw new Error('the app database refused the link row')
        },
      },
    })
    const { caller, created } = await sent(app)
    const error = await expectRefusal(
      caller.confirm({ uploadId: created.upload.id }),
      'INTERNAL_SERVER_ERROR',
      'HOOK_FAILED',
    )
    expect(error.message).toContain('a.png')
    const row = await db.prisma.upkitUpload.findUniqueOrThrow({
      where: { id: created.upload.id },
      select: { status: true, confirmedAt: true },
    })
    expect(row).toEqual({ status: 'FAILED', confirmedAt: null })
    expect(await bucket.storage.head(created.key)).toBeNull()
    await expectRefusal(caller.confirm({ uploadId: created.upload.id }), 'CONFLICT', 'UPLOAD_NOT_PENDING')
  })

  it("passes on the app's own typed refusal", async () => {
    const app = createTestApp(db, bucket, {
      hooks: {
        onConfirmed: async () => {
          throw new TRPCError({ code: 'FORBIDDEN', message: 'This task is closed.' })
        },
      },
    })
    const { caller, created } = await sent(app)
    const error = await expectRefusal(caller.confirm({ uploadId: created.upload.id }), 'FORBIDDEN')
    expect(error.message).toBe('This task is closed.')
    expect(await bucket.storage.head(created.key)).toBeNull()
  })
})

describe('onDeleted', () => {
  it('runs with the deletion in one transaction; if it fails, the upload and its object stay', async () => {
    let fail = true
    const app = createTestApp(db, bucket, {
      hooks: {
        onDeleted: async () => {
          if (fail) throw new Error('the app could not unlink it')
        },
      },
    })
    const { caller, created } = await sent(app)
    await caller.confirm({ uploadId: created.upload.id })
    await expect(caller.delete({ uploadId: created.upload.id })).rejects.toThrow()
    expect(await db.prisma.upkitUpload.count({ where: { id: created.upload.id } })).toBe(1)
    expect(await bucket.storage.head(created.key)).not.toBeNull()
    fail = false
    await caller.delete({ uploadId: created.upload.id })
    expect(await db.prisma.upkitUpload.count({ where: { id: created.upload.id } })).toBe(0)
    expect(await bucket.storage.head(created.key)).toBeNull()
  })
})

describe('per-route policies', () => {
  it('each route applies its own size, types and maxFiles', async () => {
    const app = createTestApp(db, bucket)
    const acme = app.tenant()
    const caller = app.caller(acme.user)
    const input = { taskId: acme.taskId }
    const pdf = { fileName: 'a.pdf', size: 100, mimeType: 'application/pdf' }
    // Attachments take any type; comment images only images.
    expect((await caller.create({ route: 'attachment', input, ...pdf })).upload.route).toBe('attachment')
    await expectRefusal(
      caller.create({ route: 'commentImage', input, ...pdf }),
      'UNSUPPORTED_MEDIA_TYPE',
      'FILE_TYPE_NOT_ALLOWED',
    )
    // Comment images: at most 3 uploading at once per person and task.
    const png = { fileName: 'p.png', size: 100, mimeType: 'image/png' }
    const pending = await Promise.all(
      [1, 2, 3].map(() => caller.create({ route: 'commentImage', input, ...png })),
    )
    const tooMany = await expectRefusal(
      caller.create({ route: 'commentImage', input, ...png }),
      'TOO_MANY_REQUESTS',
      'TOO_MANY_FILES',
    )
    expect(tooMany.message).toBe('At most 3 comment images can upload at once; wait for some to finish.')
    // Someone else in the same company has their own allowance; a finished upload frees one.
    const bob = app.caller({ id: 'bob', companyId: acme.companyId })
    await bob.create({ route: 'commentImage', input, ...png })
    await caller.cancel({ uploadId: (pending[0] as (typeof pending)[number]).upload.id })
    await caller.create({ route: 'commentImage', input, ...png })
  })

  it('publishes every route’s rules for the browser', async () => {
    const app = createTestApp(db, bucket)
    const policies = await app.caller(null).policies()
    expect(policies.attachment).toMatchObject({
      type: 'bucket',
      maxBytes: 5 * 1024 ** 3,
      types: ['*/*'],
      maxFiles: 20,
    })
    expect(policies.commentImage).toMatchObject({
      type: 'bucket',
      types: ['image/*'],
      maxFiles: 3,
      label: 'comment images',
    })
    expect(policies.companyLogo).toMatchObject({ type: 'inline', maxBytes: 1024 * 1024, maxDimension: 4096 })
  })
})
