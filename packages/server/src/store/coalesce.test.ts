import { randomUUID } from 'node:crypto'
import { prismaRateLimiter, prismaUploadStore } from '@upkit/store-prisma'
import { startTestDatabase, type TestDatabase } from '@upkit/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { batchWhileInFlight, coalescedRateLimiter, coalescedStore } from './coalesce'
import type { NewUploadRow, UploadStore } from './upload-store'

let db: TestDatabase

beforeAll(async () => {
  db = await startTestDatabase()
})

afterAll(async () => {
  await db?.close()
})

/** A run whose batches the test settles by hand. */
function manualRun() {
  const batches: { inputs: number[]; settle: (error?: Error) => void }[] = []
  const run = (inputs: number[]) =>
    new Promise<string[]>((resolve, reject) => {
      batches.push({
        inputs,
        settle: (error) => (error ? reject(error) : resolve(inputs.map((n) => `answer ${n}`))),
      })
    })
  return { batches, run }
}

const tick = () => new Promise((r) => setImmediate(r))

describe('batchWhileInFlight', () => {
  it('sends an idle call at once and the calls made meanwhile together after it, each with its own answer', async () => {
    const { batches, run } = manualRun()
    const call = batchWhileInFlight(run)
    const first = call(1)
    expect(batches.map((b) => b.inputs)).toEqual([[1]])
    const rest = [call(2), call(3), call(4)]
    await tick()
    // Nothing more goes while the first is in flight.
    expect(batches).toHaveLength(1)
    batches[0]?.settle()
    expect(await first).toBe('answer 1')
    await tick()
    expect(batches.map((b) => b.inputs)).toEqual([[1], [2, 3, 4]])
    batches[1]?.settle()
    expect(await Promise.all(rest)).toEqual(['answer 2', 'answer 3', 'answer 4'])
    // Idle again: the next call goes at once.
    const later = call(5)
    expect(batches.map((b) => b.inputs)).toEqual([[1], [2, 3, 4], [5]])
    batches[2]?.settle()
    expect(await later).toBe('answer 5')
  })

  it('sends at most maxBatch calls in one batch, the rest in the next', async () => {
    const { batches, run } = manualRun()
    const call = batchWhileInFlight(run, { maxBatch: 2 })
    const calls = [call(1), call(2), call(3), call(4)]
    batches[0]?.settle()
    await tick()
    batches[1]?.settle()
    await tick()
    batches[2]?.settle()
    expect(await Promise.all(calls)).toEqual(['answer 1', 'answer 2', 'answer 3', 'answer 4'])
    expect(batches.map((b) => b.inputs)).toEqual([[1], [2, 3], [4]])
  })

  it('lets the next batch go beside one stuck past stallMs, and still answers the stuck one when it ends', async () => {
    const { batches, run } = manualRun()
    const call = batchWhileInFlight(run, { stallMs: 30 })
    const stuck = call(1)
    const later = [call(2), call(3)]
    await new Promise((r) => setTimeout(r, 10))
    expect(batches).toHaveLength(1)
    await new Promise((r) => setTimeout(r, 40))
    expect(batches.map((b) => b.inputs)).toEqual([[1], [2, 3]])
    batches[1]?.settle()
    expect(await Promise.all(later)).toEqual(['answer 2', 'answer 3'])
    batches[0]?.settle()
    expect(await stuck).toBe('answer 1')
  })

  it("fails only a failed batch's callers, and goes on with the next", async () => {
    const { batches, run } = manualRun()
    const call = batchWhileInFlight(run)
    const first = call(1)
    const second = [call(2), call(3)]
    batches[0]?.settle(new Error('connection lost'))
    await expect(first).rejects.toThrow('connection lost')
    await tick()
    batches[1]?.settle()
    expect(await Promise.all(second)).toEqual(['answer 2', 'answer 3'])
  })
})

function newRow(overrides: Partial<NewUploadRow> = {}): NewUploadRow {
  const id = randomUUID()
  return {
    id,
    route: 'attachment',
    tenantId: 'acme',
    ownerId: randomUUID(),
    uploadedBy: 'ada',
    key: `coalesce/${id}`,
    fileName: 'a.bin',
    mimeType: 'application/octet-stream',
    size: 10,
    partSize: null,
    multipartUploadId: null,
    input: {},
    metadata: {},
    expiresAt: new Date(Date.now() + 3_600_000),
    ...overrides,
  }
}

/** The Prisma store, counting the statements its batch methods run. */
function countingStore() {
  const store = prismaUploadStore(db.prisma)
  const counts = { findMany: 0, confirmMany: 0 }
  const counted: UploadStore<unknown> = {
    ...store,
    findMany: (ids) => {
      counts.findMany++
      return (store.findMany as NonNullable<typeof store.findMany>)(ids)
    },
    confirmMany: (entries, now) => {
      counts.confirmMany++
      return (store.confirmMany as NonNullable<typeof store.confirmMany>)(entries, now)
    },
  }
  return { store, counts, coalesced: coalescedStore(counted) }
}

describe('coalescedStore', () => {
  it("runs a class store's own methods with the store as this (private fields work)", async () => {
    class MemoryStore {
      readonly #rows = new Map([['a', { id: 'a' }]])
      readonly describe = 'memory'
      async findMany(ids: readonly string[]) {
        return ids.flatMap((id) => this.#rows.get(id) ?? [])
      }
      async ping() {
        if (this.#rows.size === 0) throw new Error('empty')
      }
    }
    const coalesced = coalescedStore(new MemoryStore() as unknown as UploadStore<unknown>)
    expect((await coalesced.find('a'))?.id).toBe('a')
    expect(await coalesced.find('b')).toBeNull()
    await expect(coalesced.ping()).resolves.toBeUndefined()
    expect(coalesced.describe).toBe('memory')
  })
})

describe('coalescedStore on PostgreSQL', () => {
  it('answers 40 concurrent finds each with its own row (or null) in fewer statements', async () => {
    const { store, counts, coalesced } = countingStore()
    const rows = await Promise.all(Array.from({ length: 39 }, () => store.insert(newRow())))
    const ids = [...rows.map((row) => row.id), randomUUID()]
    const found = await Promise.all(ids.map((id) => coalesced.find(id)))
    expect(found.map((row) => row?.id ?? null)).toEqual([...rows.map((row) => row.id), null])
    expect(found[0]?.key).toBe(rows[0]?.key)
    expect(counts.findMany).toBeGreaterThan(0)
    expect(counts.findMany).toBeLessThan(ids.length)
  })

  it('flips concurrent single confirms together, each getting only its own rows; an expired one stays PENDING', async () => {
    const { store, counts, coalesced } = countingStore()
    const rows = await Promise.all(Array.from({ length: 30 }, () => store.insert(newRow())))
    const expired = await store.insert(newRow({ expiresAt: new Date(Date.now() - 1000) }))
    const now = new Date()
    const entry = (id: string) => ({ id, etag: `"${id.slice(0, 8)}"`, thumbnail: null })
    // The first call goes alone (nothing in flight); all the others wait for it and go as one batch, which
    // holds the same upload twice: both callers get its record, as a repeated confirm does.
    const calls = [
      ...rows.map((row) => coalesced.confirmMany?.([entry(row.id)], now)),
      coalesced.confirmMany?.([entry(rows[1]?.id as string)], now),
      coalesced.confirmMany?.([entry(expired.id)], now),
    ]
    const flipped = await Promise.all(calls)
    rows.forEach((row, i) => {
      expect(flipped[i]?.map((r) => [r.id, r.status, r.etag])).toEqual([
        [row.id, 'CONFIRMED', `"${row.id.slice(0, 8)}"`],
      ])
    })
    expect(flipped[rows.length]?.map((r) => r.id)).toEqual([rows[1]?.id])
    expect(flipped[rows.length + 1]).toEqual([])
    expect((await store.find(expired.id))?.status).toBe('PENDING')
    expect(counts.confirmMany).toBeLessThan(calls.length)
  })
})

describe('coalescedRateLimiter on PostgreSQL', () => {
  it('gives 30 concurrent hits the counts 1..30 in fewer statements, allowing exactly the limit', async () => {
    const limiter = prismaRateLimiter(db.prisma)
    let statements = 0
    const coalesced = coalescedRateLimiter({
      ...limiter,
      hitMany: (key, hits, limit) => {
        statements++
        return (limiter.hitMany as NonNullable<typeof limiter.hitMany>)(key, hits, limit)
      },
    })
    // Mid-window, so the burst cannot straddle a window's end however slow the machine is.
    const now = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 30_000)
    const key = `coalesce:${randomUUID()}`
    const hits = await Promise.all(
      Array.from({ length: 30 }, () => coalesced.hit(key, { limit: 20, windowMs: 60_000, now })),
    )
    expect(hits.map((hit) => hit.count).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    )
    expect(hits.filter((hit) => hit.allowed)).toHaveLength(20)
    expect(hits.every((hit) => hit.allowed === hit.count <= 20)).toBe(true)
    expect(hits[0]?.retryAfterSeconds).toBe(30)
    expect(statements).toBeGreaterThan(0)
    expect(statements).toBeLessThan(30)
    // Another key is its own counter.
    expect((await coalesced.hit(`${key}:other`, { limit: 20, windowMs: 60_000, now })).count).toBe(1)
  })
})
