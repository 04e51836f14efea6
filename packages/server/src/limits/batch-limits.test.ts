import { randomUUID } from 'node:crypto'
import type { CreateManyResult } from '@upkit/core'
import { prismaRateLimiter } from '@upkit/store-prisma'
import { startTestBucket, startTestDatabase, type TestBucket, type TestDatabase } from '@upkit/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp } from '../test-support/test-app'
import type { RateLimiter } from './rate-limit'

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

// Mid-window, so a batch cannot straddle a window boundary however slow the machine is.
const fixedNow = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 30_000)
const pdf = (fileName: string) => ({ fileName, size: 1000, mimeType: 'application/octet-stream' })
const codes = (results: readonly CreateManyResult[]) => results.map((r) => (r.ok ? 'ok' : r.error.code))

/** The store's limiter with its calls counted: each `hit` and each `hitMany` is one SQL statement. */
function countingLimiter(options: { withHitMany: boolean }) {
  const inner = prismaRateLimiter(db.prisma)
  const calls = { hit: 0, hitMany: 0 }
  const limiter: RateLimiter = {
    hit: (key, limit) => {
      calls.hit += 1
      return inner.hit(key, limit)
    },
    deleteWindowsBefore: (before) => inner.deleteWindowsBefore(before),
    ...(options.withHitMany
      ? {
          hitMany: (key: string, hits: number, limit: Parameters<RateLimiter['hit']>[1]) => {
            calls.hitMany += 1
            return (inner.hitMany as NonNullable<RateLimiter['hitMany']>)(key, hits, limit)
          },
        }
      : {}),
  }
  return { limiter, calls }
}

function setUp(options: { limit: number; withHitMany: boolean; quotaFiles?: number }) {
  const { limiter, calls } = countingLimiter(options)
  let quotaCalls = 0
  const app = createTestApp(db, bucket, {
    rateLimits: { limiter, create: { limit: options.limit, windowMs: 60_000 } },
    quotas: () => {
      quotaCalls += 1
      return { files: options.quotaFiles ?? null }
    },
    now: () => fixedNow,
  })
  const { companyId, taskId } = app.tenant()
  const person = app.caller({ id: randomUUID(), companyId })
  const createMany = (count: number, prefix = 'f') =>
    person.createMany({
      route: 'attachment',
      input: { taskId },
      files: Array.from({ length: count }, (_, i) => pdf(`${prefix}-${i}.pdf`)),
    })
  return { app, calls, createMany, quotaCalls: () => quotaCalls, companyId }
}

describe('limits for a createMany', () => {
  it('100 files cost one rate-limit statement and one quotas call', async () => {
    // The route's maxFiles (20 pending per person) refuses most; the limits are decided before it, for all 100.
    const { calls, createMany, quotaCalls } = setUp({ limit: 1000, withHitMany: true })
    const results = await createMany(100)
    expect(results.filter((r) => r.ok).length).toBeGreaterThan(0)
    expect(calls).toEqual({ hit: 0, hitMany: 1 })
    expect(quotaCalls()).toBe(1)
  })

  it('refuses the overflow past the limit, the last files of the batch, as per-file hits would', async () => {
    const batched = setUp({ limit: 5, withHitMany: true })
    const perFile = setUp({ limit: 5, withHitMany: false })
    const expected = ['ok', 'ok', 'ok', 'ok', 'ok', 'RATE_LIMITED', 'RATE_LIMITED']
    const one = await batched.createMany(7)
    const two = await perFile.createMany(7)
    expect(codes(one)).toEqual(expected)
    expect(codes(two)).toEqual(expected)
    expect(one[6]).toEqual(two[6])
    // Without hitMany: one statement per file, stopping at the first refused (it need not count).
    expect(perFile.calls).toEqual({ hit: 6, hitMany: 0 })
    // A second batch in the same window is refused whole, and the quota is not even asked.
    const quotaCallsBefore = batched.quotaCalls()
    expect(codes(await batched.createMany(2))).toEqual(['RATE_LIMITED', 'RATE_LIMITED'])
    expect(batched.quotaCalls()).toBe(quotaCallsBefore)
  })

  it('concurrent batches of one person share the limit exactly, each keeping its first files', async () => {
    const { createMany } = setUp({ limit: 7, withHitMany: true })
    const answers = await Promise.all([createMany(5, 'a'), createMany(5, 'b')])
    const ok = answers.map((results) => results.filter((r) => r.ok).length)
    expect((ok[0] ?? 0) + (ok[1] ?? 0)).toBe(7)
    for (const results of answers) {
      const accepted = codes(results).filter((c) => c === 'ok').length
      expect(
        codes(results)
          .slice(0, accepted)
          .every((c) => c === 'ok'),
      ).toBe(true)
    }
  })

  it('the quota resolved once still refuses per file, naming each file', async () => {
    const { createMany, quotaCalls, companyId } = setUp({ limit: 1000, withHitMany: true, quotaFiles: 3 })
    const results = await createMany(5)
    expect(codes(results)).toEqual(['ok', 'ok', 'ok', 'QUOTA_EXCEEDED', 'QUOTA_EXCEEDED'])
    const refused = results[4]
    expect(refused?.ok === false && refused.error.message).toContain('"f-4.pdf"')
    expect(quotaCalls()).toBe(1)
    expect(await db.prisma.upkitUpload.count({ where: { tenantId: companyId } })).toBe(3)
  })
})
