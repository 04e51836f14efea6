// Sweep bench (issue #13): one sweep's time and S3 calls with 100,000 confirmed objects (and their rows) and 100
// expired rows, "before" (the old sweeper, which lists the whole prefix: sweep-before.ts) against "after" (the
// sweeper in packages/server: pending rows from the database, a 10,000-key slice of the listing per run).
// Real PostgreSQL (a throwaway cluster) and the local S3 server in its own process; S3 calls are counted by a
// pass-through proxy. Sides alternate each round; medians. SWEEP_OBJECTS, SWEEP_ROUNDS override the sizes.

import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createS3BucketStorage, s3Presets } from '@upkit/storage'
import { freePort } from '../../e2e/support/demo-process'
import { startLocalS3Process } from '../../e2e/support/local-s3-process'
import { createDatabase } from '../../packages/db/src/index'
import type { UploadStore } from '../../packages/server/src/store/upload-store'
import { sweepUploads } from '../../packages/server/src/sweeper'
import { eachLimited } from '../../packages/server/src/sweeper-scans'
import { type S3CallCounts, startCountingProxy } from '../../packages/server/src/test-support/counting-proxy'
import { prismaUploadStore } from '../../packages/store-prisma/src/prisma-upload-store'
import { startPostgres } from '../../packages/testing/src/postgres'
import { PrismaClient } from '../../packages/testing/src/prisma'
import { positiveIntEnv } from './env'
import { median } from './small-files-support'
import { sweepUploadsBefore } from './sweep-before'

const OBJECTS = positiveIntEnv('SWEEP_OBJECTS', 100_000)
const EXPIRED = 100
const ROUNDS = positiveIntEnv('SWEEP_ROUNDS', 3)
const PREFIX = 'uploads/'
const BODY = new Uint8Array([0x2a])
const HOUR = 60 * 60 * 1000

interface Run {
  readonly ms: number
  readonly calls: S3CallCounts
  readonly expiredRows: number
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'upkit-sweep-bench-'))
  const postgres = await startPostgres()
  const credentials = { accessKeyId: 'bench', secretAccessKey: randomBytes(24).toString('base64url') }
  const s3 = await startLocalS3Process({
    dir: join(dir, 's3'),
    port: await freePort(),
    ...credentials,
    bucket: 'sweep',
    corsOrigins: [],
  })
  const proxy = await startCountingProxy(s3.endpoint)
  const database = await createDatabase({
    databaseUrl: await postgres.createDatabaseUrl('upkit_sweep_bench'),
    migrationsDir: fileURLToPath(new URL('../../packages/testing/prisma/migrations', import.meta.url)),
    createClient: (adapter) => new PrismaClient({ adapter }),
  })
  try {
    const direct = createS3BucketStorage(
      s3Presets.local({ endpoint: s3.endpoint, bucket: 'sweep', credentials }),
    )
    const storage = createS3BucketStorage(
      s3Presets.local({ endpoint: proxy.endpoint, bucket: 'sweep', credentials }),
    )
    const prisma = database.prisma
    const store = prismaUploadStore(prisma) as UploadStore<unknown>
    await direct.ensureBucket()

    const rowOf = (key: string, status: 'CONFIRMED' | 'PENDING', expiresAt: Date) => ({
      id: key.slice(-36),
      route: 'attachment',
      tenantId: `t${key.charCodeAt(PREFIX.length + 1) % 16}`,
      key,
      fileName: 'f.bin',
      mimeType: 'application/octet-stream',
      size: BigInt(BODY.length),
      input: {},
      metadata: {},
      status,
      expiresAt,
      confirmedAt: status === 'CONFIRMED' ? new Date() : null,
    })
    const keysFor = (count: number) =>
      Array.from({ length: count }, () => {
        const id = randomUUID()
        return `${PREFIX}t${id.charCodeAt(0) % 16}/attachment/${id}`
      })
    const put = (keys: string[]) =>
      eachLimited(keys, 64, async (key) => {
        await direct.putObject({ key, body: BODY, contentType: 'application/octet-stream', contentLength: 1 })
      })
    const insert = async (rows: ReturnType<typeof rowOf>[]) => {
      for (let i = 0; i < rows.length; i += 5000)
        await prisma.upkitUpload.createMany({ data: rows.slice(i, i + 5000) })
    }

    let started = performance.now()
    const confirmed = keysFor(OBJECTS)
    await put(confirmed)
    await insert(confirmed.map((key) => rowOf(key, 'CONFIRMED', new Date(Date.now() + 365 * 24 * HOUR))))
    console.log(
      `seeded ${OBJECTS.toLocaleString('en')} confirmed objects + rows in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    )

    /** 100 PENDING rows past their expiry, with their objects: what each sweep must remove. */
    const addExpired = async () => {
      const keys = keysFor(EXPIRED)
      await put(keys)
      await insert(keys.map((key) => rowOf(key, 'PENDING', new Date(Date.now() - HOUR))))
    }
    // Never called here (no unexpired pending rows), but given so the old sweeper runs its confirm lookups.
    const confirmComplete = async () => 'skipped' as const
    const sides = {
      before: () => sweepUploadsBefore({ store, storage, keyPrefix: PREFIX, confirmComplete }),
      after: () => sweepUploads({ store, storage, keyPrefix: PREFIX, confirmComplete }),
    }
    const runs: Record<keyof typeof sides, Run[]> = { before: [], after: [] }
    for (let round = 0; round < ROUNDS; round++) {
      const order: (keyof typeof sides)[] = round % 2 === 0 ? ['before', 'after'] : ['after', 'before']
      for (const side of order) {
        await addExpired()
        proxy.reset()
        started = performance.now()
        const report = await sides[side]()
        const run = {
          ms: performance.now() - started,
          calls: { ...proxy.counts },
          expiredRows: report.expiredRows,
        }
        if (run.expiredRows !== EXPIRED)
          throw new Error(`${side} removed ${run.expiredRows} expired rows, not ${EXPIRED}`)
        runs[side].push(run)
        console.log(
          `round ${round + 1} ${side.padEnd(6)} ${run.ms.toFixed(0).padStart(6)} ms  LIST ${run.calls.list}  HEAD ${run.calls.head}  GET ${run.calls.get}  delete ${run.calls.delete}  ListMultipartUploads ${run.calls.listMultipartUploads}`,
        )
      }
    }

    // Where "after"'s time goes: its slice of the listing alone, and the row lookups for those keys alone.
    started = performance.now()
    const slice: string[] = []
    for await (const object of storage.list({ prefix: PREFIX })) {
      slice.push(object.key)
      if (slice.length >= 10_000) break
    }
    const listMs = performance.now() - started
    started = performance.now()
    for (let i = 0; i < slice.length; i += 500) await store.knownKeys(slice.slice(i, i + 500))
    const knownKeysMs = performance.now() - started

    const summary = (side: keyof typeof sides) => {
      const list = runs[side]
      return {
        ms: median(list.map((run) => run.ms)),
        list: median(list.map((run) => run.calls.list)),
        head: median(list.map((run) => run.calls.head)),
      }
    }
    const before = summary('before')
    const after = summary('after')
    console.log(
      `\nSweep with ${OBJECTS.toLocaleString('en')} confirmed objects and ${EXPIRED} expired rows (median of ${ROUNDS}):`,
    )
    console.log(
      `  before (whole listing):        ${before.ms.toFixed(0).padStart(6)} ms, ${before.list} LIST, ${before.head} HEAD`,
    )
    console.log(
      `  after  (database + 10k slice): ${after.ms.toFixed(0).padStart(6)} ms, ${after.list} LIST, ${after.head} HEAD`,
    )
    console.log(
      `  of which, measured alone: the ${slice.length.toLocaleString('en')}-key slice ${listMs.toFixed(0)} ms (${Math.ceil(slice.length / 1000)} LIST), its row lookups ${knownKeysMs.toFixed(0)} ms (${Math.ceil(slice.length / 500)} queries)`,
    )
    console.log(
      `  after is ${(before.ms / after.ms).toFixed(1)}x faster, ${(before.list / Math.max(after.list, 1)).toFixed(0)}x fewer LIST calls`,
    )
  } finally {
    await database.close()
    await proxy.close()
    await s3.kill()
    await postgres.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
