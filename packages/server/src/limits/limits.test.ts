import { randomBytes, randomUUID } from 'node:crypto'
import { GiB, MiB } from '@upkit/core'
import { prismaRateLimiter } from '@upkit/store-prisma'
import { startTestBucket, startTestDatabase, type TestBucket, type TestDatabase } from '@upkit/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { retryAfterOf, upkitErrorData } from '../errors'
import { createTestApp, expectRefusal } from '../test-support/test-app'

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

const file = (size = 1000) => ({ fileName: 'report.pdf', size, mimeType: 'application/octet-stream' })

/** A company with a task in `app`, and callers for as many of its people as asked. */
function company(app: ReturnType<typeof createTestApp>) {
  const { companyId, taskId } = app.tenant()
  return {
    companyId,
    taskId,
    call: { route: 'attachment' as const, input: { taskId } },
    person: (id: string = randomUUID()) => app.caller({ id, companyId }),
  }
}

describe('quotas', () => {
  it('50 parallel creates that together exceed a file quota by one leave exactly one refused', async () => {
    const app = createTestApp(db, bucket, { quotas: () => ({ files: 49 }) })
    const acme = company(app)
    // Different people, so the per-person pending cap (maxFiles) never refuses first.
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => acme.person().create({ ...acme.call, ...file() })),
    )
    const refused = results.filter((r) => r.status === 'rejected')
    expect(refused).toHaveLength(1)
    await expectRefusal(
      Promise.reject((refused[0] as PromiseRejectedResult).reason),
      'FORBIDDEN',
      'QUOTA_EXCEEDED',
    )
    expect(await db.prisma.upkitUpload.count({ where: { tenantId: acme.companyId } })).toBe(49)
  })

  it('50 parallel creates that together exceed a byte quota by one file leave exactly one refused', async () => {
    const app = createTestApp(db, bucket, { quotas: () => ({ bytes: 49 * 1000 + 999 }) })
    const acme = company(app)
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => acme.person().create({ ...acme.call, ...file(1000) })),
    )
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1)
    const stored = await db.prisma.upkitUpload.aggregate({
      where: { tenantId: acme.companyId },
      _sum: { size: true },
    })
    expect(Number(stored._sum.size)).toBe(49 * 1000)
  })

  it('says how much is left in the app’s words, and another tenant is not affected', async () => {
    const app = createTestApp(db, bucket, {
      quotas: ({ tenantId }) => ({ bytes: 5 * GiB, label: tenantId === acme.companyId ? 'Acme' : 'Globex' }),
    })
    const acme = company(app)
    const globex = company(app)
    const ada = acme.person()
    await ada.create({ ...acme.call, ...file(Math.round(1.8 * GiB)) })
    const refusal = await expectRefusal(
      ada.create({ ...acme.call, ...file(3.5 * GiB) }),
      'FORBIDDEN',
      'QUOTA_EXCEEDED',
    )
    expect(refusal.message).toBe(
      'Acme has 3.2 GiB of its 5 GiB left (1 upload in progress counts too); "report.pdf" needs 3.5 GiB.',
    )
    await globex.person().create({ ...globex.call, ...file(3.5 * GiB) })
    expect(await ada.usage(acme.call)).toEqual({
      label: 'Acme',
      used: { bytes: 0, files: 0 },
      reserved: { bytes: Math.round(1.8 * GiB), files: 1 },
      limit: { bytes: 5 * GiB, files: null },
    })
  })

  it('confirm turns a reservation into usage; cancel, delete and expiry release it', async () => {
    const quotas = () => ({ files: 2, label: 'Acme' })
    const app = createTestApp(db, bucket, { quotas })
    const acme = company(app)
    const ada = acme.person()
    const a = await ada.create({ ...acme.call, ...file() })
    const bytes = randomBytes(1000)
    const b = await ada.create({ ...acme.call, ...file(bytes.length) })
    await expectRefusal(ada.create({ ...acme.call, ...file() }), 'FORBIDDEN', 'QUOTA_EXCEEDED')

    await ada.cancel({ uploadId: a.upload.id })
    const c = await ada.create({ ...acme.call, ...file() })

    const put = b.signedPut as NonNullable<typeof b.signedPut>
    expect((await fetch(put.url, { method: 'PUT', headers: put.headers, body: bytes })).status).toBe(200)
    await ada.confirm({ uploadId: b.upload.id })
    expect(await ada.usage(acme.call)).toMatchObject({
      used: { bytes: 1000, files: 1 },
      reserved: { bytes: 1000, files: 1 },
      limit: { bytes: null, files: 2 },
    })
    await expectRefusal(ada.create({ ...acme.call, ...file() }), 'FORBIDDEN', 'QUOTA_EXCEEDED')
    await ada.delete({ uploadId: b.upload.id })
    await ada.create({ ...acme.call, ...file() })
    expect(c.upload.status).toBe('pending')

    // A day later both pending reservations have expired (the sweeper has not run yet): they count for nothing.
    const later = createTestApp(db, bucket, { quotas, now: () => new Date(Date.now() + 25 * 60 * 60 * 1000) })
    later.tasks.set(acme.taskId, acme.companyId)
    const adaLater = later.caller({ id: randomUUID(), companyId: acme.companyId })
    expect(await adaLater.usage(acme.call)).toMatchObject({ reserved: { files: 0 }, used: { files: 0 } })
    await adaLater.create({ ...acme.call, ...file() })
    await adaLater.create({ ...acme.call, ...file() })
  })

  it('a quota per person counts only that person’s uploads', async () => {
    const app = createTestApp(db, bucket, { quotas: () => ({ files: 1, perUser: true }) })
    const acme = company(app)
    const ada = acme.person()
    await ada.create({ ...acme.call, ...file() })
    const refusal = await expectRefusal(
      ada.create({ ...acme.call, ...file() }),
      'FORBIDDEN',
      'QUOTA_EXCEEDED',
    )
    expect(refusal.message).toMatch(/^This workspace has used all 1 of its files/)
    await acme.person().create({ ...acme.call, ...file() })
  })
})

describe('rate limits', () => {
  // Mid-window, so the burst cannot straddle a window boundary however slow the machine is.
  const fixedNow = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 30_000)

  it('the 501st create of a burst under a 500/min limit gets 429 with retryAfter, across two instances', async () => {
    const options = { rateLimits: { create: { limit: 500, windowMs: 60_000 } }, now: () => fixedNow }
    const one = createTestApp(db, bucket, options)
    const two = createTestApp(db, bucket, options)
    const acme = company(one)
    two.tasks.set(acme.taskId, acme.companyId)
    const userId = randomUUID()
    const callers = [
      one.caller({ id: userId, companyId: acme.companyId }),
      two.caller({ id: userId, companyId: acme.companyId }),
    ]
    const results = await Promise.allSettled(
      Array.from({ length: 501 }, (_, i) =>
        (callers[i % 2] as (typeof callers)[0]).create({ ...acme.call, ...file() }),
      ),
    )
    // Past 20 uploading at once the route's own cap refuses (TOO_MANY_FILES); those calls still count.
    const limited = results.filter(
      (r) =>
        r.status === 'rejected' && (r.reason as { cause?: { code?: string } }).cause?.code === 'RATE_LIMITED',
    )
    expect(limited).toHaveLength(1)
    const error = await expectRefusal(
      Promise.reject((limited[0] as PromiseRejectedResult).reason),
      'TOO_MANY_REQUESTS',
      'RATE_LIMITED',
    )
    expect(upkitErrorData(error)).toEqual({ upkitCode: 'RATE_LIMITED', retryAfter: 30 })
    expect(retryAfterOf([error])).toBe(30)
    expect(error.message).toBe('Too many uploads started in a short time; try again in 30 seconds.')
    // Another person of the same company is not held up by Ada's burst.
    await one.caller({ id: randomUUID(), companyId: acme.companyId }).create({ ...acme.call, ...file() })
  })

  it('limits signParts per person', async () => {
    const app = createTestApp(db, bucket, {
      rateLimits: { signParts: { limit: 2, windowMs: 60_000 } },
      now: () => fixedNow,
    })
    const acme = company(app)
    const ada = acme.person()
    const created = await ada.create({ ...acme.call, ...file(64 * MiB) })
    const call = { uploadId: created.upload.id, s3UploadId: created.s3UploadId as string, partNumbers: [1] }
    await ada.signParts(call)
    await ada.signParts(call)
    const error = await expectRefusal(ada.signParts(call), 'TOO_MANY_REQUESTS', 'RATE_LIMITED')
    expect(upkitErrorData(error).retryAfter).toBe(30)
  })

  it('the sweeper removes windows no limit counts in any more', async () => {
    const limiter = prismaRateLimiter(db.prisma)
    const key = `test:${randomUUID()}`
    expect(await limiter.hit(key, { limit: 1, windowMs: 60_000, now: fixedNow })).toMatchObject({
      allowed: true,
      count: 1,
    })
    expect(await limiter.hit(key, { limit: 1, windowMs: 60_000, now: fixedNow })).toMatchObject({
      allowed: false,
      count: 2,
    })
    const app = createTestApp(db, bucket, { now: () => new Date(fixedNow.getTime() + 25 * 60 * 60 * 1000) })
    const report = await app.upkit.sweep()
    expect(report.rateLimitWindows).toBeGreaterThanOrEqual(1)
    expect(await db.prisma.upkitRateLimit.count({ where: { key } })).toBe(0)
  })
})
