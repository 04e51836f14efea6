import { randomUUID } from 'node:crypto'
import { type BucketStorage, createS3BucketStorage, s3Presets } from '@upkit/storage'
import { prismaUploadStore } from '@upkit/store-prisma'
import { startTestBucket, startTestDatabase, type TestBucket, type TestDatabase } from '@upkit/testing'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { UploadRow, UploadStore } from './store/upload-store'
import { type SweepOptions, sweepUploads } from './sweeper'
import { eachLimited } from './sweeper-scans'
import { type CountingProxy, startCountingProxy } from './test-support/counting-proxy'
import { createTestApp } from './test-support/test-app'

// The sweeper's cost grows with the pending and failed work, not with the bucket: LIST calls are bounded by its
// slice, HEADs by the pending rows it checks, and its cursors (kept in PostgreSQL) carry each scan across sweeps.
// Real PostgreSQL and the real local S3 server; S3 calls are counted by a pass-through proxy in front of it.

let db: TestDatabase
let bucket: TestBucket
let proxy: CountingProxy
/** The bucket through the counting proxy: what every sweep here uses. */
let storage: BucketStorage
let store: UploadStore<unknown>

const HOUR = 60 * 60 * 1000
/** Past the orphan grace (1 h) and the confirm grace (60 s), well before a row's expiry (24 h ahead). */
const later = () => new Date(Date.now() + 2 * HOUR)
const BODY = new Uint8Array([1, 2, 3])

beforeAll(async () => {
  db = await startTestDatabase()
  bucket = await startTestBucket()
  proxy = await startCountingProxy(bucket.endpoint)
  storage = createS3BucketStorage(
    s3Presets.local({ endpoint: proxy.endpoint, bucket: bucket.bucket, credentials: bucket.credentials }),
  )
  store = prismaUploadStore(db.prisma) as UploadStore<unknown>
})

afterAll(async () => {
  await proxy?.close()
  await bucket?.close()
  await db?.close()
})

beforeEach(async () => {
  // Each test starts its scans from the start, with no lease held and no other test's pending rows.
  await db.prisma.upkitSweepState.deleteMany({})
  await db.prisma.upkitUpload.deleteMany({ where: { status: 'PENDING' } })
  proxy.reset()
})

const keyUnder = (prefix: string) => `${prefix}tenant/attachment/${randomUUID()}`

/** `count` objects under `prefix`, each with a CONFIRMED row unless listed in `orphans`; resolves the keys sorted. */
async function seed(prefix: string, count: number, options: { orphans?: number[] } = {}) {
  const keys = Array.from({ length: count }, () => keyUnder(prefix)).sort()
  await eachLimited(keys, 32, async (key) => {
    await bucket.storage.putObject({ key, body: BODY, contentType: 'text/plain', contentLength: BODY.length })
  })
  const orphans = new Set((options.orphans ?? []).map((index) => keys[index]))
  await db.prisma.upkitUpload.createMany({
    data: keys
      .filter((key) => !orphans.has(key))
      .map((key) => ({ ...rowData(key), status: 'CONFIRMED' as const, confirmedAt: new Date() })),
  })
  return keys
}

function rowData(key: string) {
  return {
    id: key.slice(-36),
    route: 'attachment',
    tenantId: 'tenant',
    key,
    fileName: 'f.txt',
    mimeType: 'text/plain',
    size: BigInt(BODY.length),
    input: {},
    metadata: {},
    expiresAt: new Date(Date.now() + 24 * HOUR),
  }
}

/** PENDING rows whose object never arrived (the browser is still sending, or gave up). */
async function addPending(prefix: string, count: number) {
  const keys = Array.from({ length: count }, () => keyUnder(prefix))
  await db.prisma.upkitUpload.createMany({ data: keys.map(rowData) })
  return keys
}

const sweep = (options: Partial<SweepOptions> & { keyPrefix: string }) =>
  sweepUploads({ store, storage, now: later(), confirmComplete: async () => 'skipped', ...options })

const stateRow = () => db.prisma.upkitSweepState.findUnique({ where: { name: 'uploads' } })

describe('the sweeper costs what its work costs, not what the bucket holds', () => {
  it('a sweep of a bucket 8x larger makes the same LIST calls; its HEADs follow the pending rows', async () => {
    await seed('small/', 250)
    await seed('large/', 2100)

    proxy.reset()
    const small = await sweep({ keyPrefix: 'small/', orphanKeysPerSweep: 1000 })
    const smallCounts = { ...proxy.counts }
    await db.prisma.upkitSweepState.deleteMany({})
    proxy.reset()
    const large = await sweep({ keyPrefix: 'large/', orphanKeysPerSweep: 1000 })
    const largeCounts = { ...proxy.counts }

    expect(small.listedObjects).toBe(250)
    expect(large.listedObjects).toBe(1000)
    // One page each: the large bucket's slice stops at 1,000 keys without asking for the next page.
    expect(smallCounts.list).toBe(1)
    expect(largeCounts.list).toBe(1)
    expect(smallCounts.head + largeCounts.head).toBe(0)

    // Pending work: one HEAD per pending row checked, and still one LIST.
    await addPending('large/', 7)
    proxy.reset()
    const withPending = await sweep({ keyPrefix: 'large/', orphanKeysPerSweep: 1000 })
    expect(withPending.checkedPending).toBe(7)
    expect(proxy.counts.head).toBe(7)
    expect(proxy.counts.list).toBe(1)
    expect(withPending.orphanObjects).toBe(0)
  })

  it('the orphan scan resumes after its cursor in the next sweep and wraps around at the end', async () => {
    const keys = await seed('cursor/', 1200, { orphans: [100, 700, 1150] })
    const at = (index: number) => keys[index] as string
    const slice = { keyPrefix: 'cursor/', orphanKeysPerSweep: 500 }

    proxy.reset()
    const first = await sweep(slice)
    expect(first).toMatchObject({ listedObjects: 500, orphanObjects: 1 })
    expect(proxy.counts.list).toBe(1)
    expect((await stateRow())?.orphanCursor).toBe(at(499))
    expect(await bucket.storage.head(at(100))).toBeNull()
    expect(await bucket.storage.head(at(700))).not.toBeNull()

    proxy.reset()
    const second = await sweep(slice)
    expect(second).toMatchObject({ listedObjects: 500, orphanObjects: 1 })
    // Listed from the cursor (S3 StartAfter), not from the start and skipped to it.
    expect(proxy.counts.list).toBe(1)
    expect((await stateRow())?.orphanCursor).toBe(at(999))
    expect(await bucket.storage.head(at(700))).toBeNull()

    proxy.reset()
    const third = await sweep(slice)
    expect(third).toMatchObject({ listedObjects: 200, orphanObjects: 1 })
    // Keys 1,000 on sit on the listing's second page: reached in one call only by starting after the cursor.
    expect(proxy.counts.list).toBe(1)
    expect((await stateRow())?.orphanCursor).toBeNull()

    // An orphan before every key seen so far: found once the scan has wrapped to the start.
    const early = 'cursor/0-orphan'
    await bucket.storage.putObject({ key: early, body: BODY, contentType: 'text/plain', contentLength: 3 })
    const fourth = await sweep(slice)
    expect(fourth).toMatchObject({ listedObjects: 500, orphanObjects: 1 })
    expect(await bucket.storage.head(early)).toBeNull()

    // Only the orphans went: every object with a row is still there.
    const left: string[] = []
    for await (const object of bucket.storage.list({ prefix: 'cursor/' })) left.push(object.key)
    expect(left).toEqual(keys.filter((_, index) => ![100, 700, 1150].includes(index)))
  })

  it('the confirm scan checks maxConfirmsPerSweep pending rows per sweep, oldest first, then wraps', async () => {
    await addPending('pending/', 5)
    const checked: string[] = []
    const confirmComplete = async (row: UploadRow) => {
      checked.push(row.id)
      return 'skipped' as const
    }
    // The rows' objects are missing, so nothing reaches confirmComplete: the HEADs show which rows were checked.
    const reports = []
    for (let i = 0; i < 4; i++)
      reports.push(await sweep({ keyPrefix: 'pending/', maxConfirmsPerSweep: 2, confirmComplete }))
    expect(reports.map((report) => report.checkedPending)).toEqual([2, 2, 1, 2])
    expect(checked).toEqual([])
  })
})

describe('bounds', () => {
  it('a bound that is not a positive whole number is a TypeError naming it, before anything is swept', async () => {
    await expect(sweep({ keyPrefix: 'bounds/', orphanKeysPerSweep: 0 })).rejects.toThrow(
      new TypeError('orphanKeysPerSweep must be a positive whole number, got 0.'),
    )
    await expect(sweep({ keyPrefix: 'bounds/', maxConfirmsPerSweep: 2.5 })).rejects.toThrow(TypeError)
    expect(() => createTestApp(db, bucket, { maxConfirmsPerSweep: -1 })).toThrow(
      new TypeError('maxConfirmsPerSweep must be a positive whole number, got -1.'),
    )
    expect(await stateRow()).toBeNull()
  })
})

describe('abandoned rows', () => {
  it('expired, failed and cancelled rows go with their objects, in one delete per batch; confirmed ones stay', async () => {
    const [expired, failed, cancelled, confirmed] = await seed('abandoned/', 4, { orphans: [0, 1, 2] })
    const past = new Date(Date.now() - HOUR)
    await db.prisma.upkitUpload.createMany({
      data: [
        { ...rowData(expired as string), expiresAt: past },
        { ...rowData(failed as string), status: 'FAILED', failureReason: 'wrong type' },
        { ...rowData(cancelled as string), status: 'CANCELLED', expiresAt: past },
      ],
    })
    // A confirmed row is never deleted, even when named.
    expect(await store.deleteUnconfirmedMany?.([(confirmed as string).slice(-36)])).toBe(0)

    const report = await sweep({ keyPrefix: 'abandoned/', now: new Date() })
    expect(report.expiredRows).toBe(3)
    const left = await db.prisma.upkitUpload.findMany({
      where: { key: { startsWith: 'abandoned/' } },
      select: { key: true },
    })
    expect(left.map((row) => row.key)).toEqual([confirmed])
    for (const key of [expired, failed, cancelled])
      expect(await bucket.storage.head(key as string)).toBeNull()
    expect(await bucket.storage.head(confirmed as string)).not.toBeNull()
  })
})

describe('one sweep at a time', () => {
  /** The bucket, with ListMultipartUploads (the last step) held until `release`: a sweep caught mid-way. */
  function heldStorage() {
    let release = () => {}
    let reached = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const arrived = new Promise<void>((resolve) => {
      reached = resolve
    })
    const held: BucketStorage = {
      ...storage,
      list: (input) => storage.list(input),
      listMultipartUploads: async (input) => {
        reached()
        await gate
        return storage.listMultipartUploads(input)
      },
    }
    return { held, arrived, release }
  }

  it('a sweep started while another runs reports skipped; the next one after it runs', async () => {
    const { held, arrived, release } = heldStorage()
    const first = sweepUploads({ store, storage: held, keyPrefix: 'lock/', now: later() })
    await arrived
    // Another store object on the same database, as another instance would have.
    const otherStore = prismaUploadStore(db.prisma) as UploadStore<unknown>
    const second = await sweepUploads({ store: otherStore, storage, keyPrefix: 'lock/', now: later() })
    expect(second.skipped).toBe('another instance is sweeping')
    release()
    expect((await first).skipped).toBeUndefined()
    const third = await sweepUploads({ store: otherStore, storage, keyPrefix: 'lock/', now: later() })
    expect(third.skipped).toBeUndefined()
    expect((await stateRow())?.leaseHolder).toBeNull()
  })

  it("ten sweeps at once never overlap; a crashed sweep's lease blocks until it expires", async () => {
    // Every sweep that runs lists the bucket once: how many listings are under way at once shows overlap.
    let active = 0
    let mostAtOnce = 0
    const watched: BucketStorage = {
      ...storage,
      list: async function* (input) {
        active++
        mostAtOnce = Math.max(mostAtOnce, active)
        try {
          yield* storage.list(input)
        } finally {
          active--
        }
      },
    }
    await seed('lock/', 50)
    const reports = await Promise.all(
      Array.from({ length: 10 }, () =>
        sweepUploads({ store, storage: watched, keyPrefix: 'lock/', now: later() }),
      ),
    )
    // A finished sweep releases the lease, so a later one of the ten may run too, but never beside another.
    const ran = reports.filter((report) => !report.skipped).length
    expect(ran).toBeGreaterThanOrEqual(1)
    expect(reports.filter((report) => report.skipped)).toHaveLength(10 - ran)
    expect(mostAtOnce).toBe(1)

    await store.claimSweep?.('crashed-instance', 60 * 60 * 1000)
    expect((await sweepUploads({ store, storage, keyPrefix: 'lock/' })).skipped).toBe(
      'another instance is sweeping',
    )
    // By the database's clock: a lease already over is taken by the next sweep.
    await db.prisma.upkitSweepState.update({
      where: { name: 'uploads' },
      data: { leaseUntil: new Date(Date.now() - 24 * HOUR) },
    })
    expect((await sweepUploads({ store, storage, keyPrefix: 'lock/' })).skipped).toBeUndefined()
  })
})

describe('a store without the sweep methods (a third-party store written before them)', () => {
  it('still confirms complete uploads from the listing and removes orphans; sweeps are not exclusive', async () => {
    const {
      claimSweep: _claim,
      releaseSweep: _release,
      pendingToCheck: _pending,
      ...older
    } = prismaUploadStore(db.prisma) as UploadStore<unknown>
    const [orphan, complete] = await seed('older/', 2, { orphans: [0, 1] })
    await db.prisma.upkitUpload.create({ data: rowData(complete as string) })
    const confirmed: string[] = []
    const options = {
      store: older,
      storage,
      keyPrefix: 'older/',
      now: later(),
      confirmComplete: async (row: UploadRow) => {
        confirmed.push(row.key)
        return 'confirmed' as const
      },
    }
    const [first, second] = await Promise.all([sweepUploads(options), sweepUploads(options)])
    expect(first.skipped).toBeUndefined()
    expect(second.skipped).toBeUndefined()
    expect(confirmed).toContain(complete)
    expect(await bucket.storage.head(orphan as string)).toBeNull()
    expect(await bucket.storage.head(complete as string)).not.toBeNull()
  })
})
