// One timed `migrateUploads` run, in a process of its own (forked by migrate-bench.ts), so every run starts as
// the CLI does and as each rclone run does: cold JIT, an empty heap, a fresh database. Run in the bench's process,
// the first round paid for compiling and growing the heap (up to 1.6x the CPU and twice the GC pauses of later
// rounds), which made identical rounds differ for a reason no operator would see twice.
//
// Protocol (IPC): the parent sends the set-up as the first message; the child prepares the database and the
// bucket and answers `ready`; the parent settles the disk and starts its probes, then sends `go`; the child
// answers with `UpkitRunResult`, and exits on the parent's next message (`exit`), once its probes have read this
// process's CPU time.
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import { createDatabase } from '@upkit/db'
import { createS3BucketStorage, s3Presets } from '@upkit/storage'
import { PrismaClient } from '@upkit/testing/prisma'
import type { LegacyFixture } from '../src/fixtures'
import { migrateUploads } from '../src/migrate-uploads'
import type { MigrationStore } from '../src/migration-store'
import { prismaMigrationStore } from '../src/prisma-migration-store'
import { createLegacyTables, legacyRoutes, legacyTableSource } from '../src/test-support/legacy-table-source'

export interface UpkitRunSetup {
  fixture: Omit<LegacyFixture, 'taskCompany'> & { taskCompany: [string, string][] }
  endpoint: string
  bucket: string
  credentials: { accessKeyId: string; secretAccessKey: string }
  /** PGlite folder; ignored when `databaseUrl` is set. */
  dataDir: string
  databaseUrl: string | undefined
  migrationsDir: string
  concurrency: number
  batchSize: number | undefined
}

export interface UpkitRunResult {
  seconds: number
  migrated: number
  failures: string[]
  /** Wall seconds inside the store (PGlite runs on this event loop, so this is time the copies wait too). */
  dbSeconds: number
  gcPause: number
  gcCount: number
  loopDelayMax: number
}

const send = (message: unknown) =>
  new Promise<void>((resolve, reject) =>
    process.send?.(message, (error: Error | null) => (error ? reject(error) : resolve())),
  )
const nextMessage = () => new Promise<unknown>((resolve) => process.once('message', resolve))

const setup = (await nextMessage()) as UpkitRunSetup
const fixture: LegacyFixture = {
  ...setup.fixture,
  taskCompany: new Map(setup.fixture.taskCompany),
  // Dates arrive as strings through IPC.
  references: setup.fixture.references.map((r) => ({
    ...r,
    ...(r.createdAt === undefined ? {} : { createdAt: new Date(r.createdAt) }),
  })),
}
const database = await createDatabase({
  ...(setup.databaseUrl ? { databaseUrl: setup.databaseUrl } : { dataDir: setup.dataDir }),
  migrationsDir: setup.migrationsDir,
  createClient: (adapter) => new PrismaClient({ adapter }),
})
try {
  if (setup.databaseUrl) {
    // Same starting state as a fresh PGlite folder: no upkit rows, the legacy rows as the fixture wrote them.
    await database.prisma.$executeRawUnsafe('DROP TABLE IF EXISTS legacy_files, legacy_logos')
    await database.prisma.$executeRawUnsafe('TRUNCATE upkit_uploads, upkit_migration_items CASCADE')
  }
  await createLegacyTables(database.prisma, fixture)
  const storage = createS3BucketStorage(
    s3Presets.local({ endpoint: setup.endpoint, bucket: setup.bucket, credentials: setup.credentials }),
  )
  await storage.ensureBucket()
  const inner = prismaMigrationStore(database.prisma)
  let dbSeconds = 0
  const timed =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const t = performance.now()
      try {
        return await fn(...args)
      } finally {
        dbSeconds += (performance.now() - t) / 1000
      }
    }
  const store: MigrationStore<unknown> = {
    ...inner,
    items: timed(() => inner.items()),
    plan: timed((items) => inner.plan(items)),
    commit: timed((batch, writeBack) => inner.commit(batch, writeBack)),
  }
  await send('ready')
  await nextMessage()

  let gcPause = 0
  let gcCount = 0
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcPause += entry.duration / 1000
      gcCount++
    }
  })
  gc.observe({ entryTypes: ['gc'] })
  const loop = monitorEventLoopDelay({ resolution: 10 })
  loop.enable()
  const started = performance.now()
  const report = await migrateUploads({
    source: legacyTableSource(database.prisma),
    store,
    routes: legacyRoutes(database.prisma, fixture.taskCompany),
    storage,
    uploadsDir: fixture.uploadsDir,
    concurrency: setup.concurrency,
    ...(setup.batchSize === undefined ? {} : { batchSize: setup.batchSize }),
  })
  const seconds = (performance.now() - started) / 1000
  loop.disable()
  gc.disconnect()
  const result: UpkitRunResult = {
    seconds,
    migrated: report.migrated,
    failures: report.failures.slice(0, 5).map((f) => `${f.source}: ${f.reason}`),
    dbSeconds,
    gcPause,
    gcCount,
    loopDelayMax: loop.max / 1e9,
  }
  await send(result)
  // Alive until the parent has read this process's CPU time from /proc, which an exit would take with it.
  await nextMessage()
} finally {
  await database.close()
}
