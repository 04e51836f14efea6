// `pnpm --filter @upkit/migrate bench [files] [MiB]`: builds a legacy folder (default 10,000 files, ~1 GiB, varied
// sizes), migrates it with `migrateUploads` into a fresh local S3 server and, when `rclone` is installed, times
// `rclone copy` of the same folder to the same server (RCLONE_TRANSFERS: comma-separated runs, default
// `default,8`: rclone's defaults, then `--transfers 8`). Not run by the tests. Uses DATABASE_URL when set, else a
// throwaway PGlite folder, with upkit's tables (the test schema) and the tests' legacy source (two raw tables).
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createDatabase } from '@upkit/db'
import { createS3BucketStorage, s3Presets } from '@upkit/storage'
import { PrismaClient } from '@upkit/testing/prisma'
import { writeLegacyFixture } from '../src/fixtures'
import { migrateUploads } from '../src/migrate-uploads'
import { prismaMigrationStore } from '../src/prisma-migration-store'
import { createLegacyTables, legacyRoutes, legacyTableSource } from '../src/test-support/legacy-table-source'

const files = Number(process.argv[2] ?? 10_000)
const targetBytes = Number(process.argv[3] ?? 1024) * 1024 * 1024
const concurrency = Number(process.env.CONCURRENCY ?? 8)

// Mostly small files with a long tail, like real attachments: 1 in 500 is ~24 MiB, 1 in 20 ~1 MiB, the rest
// a few KiB to ~150 KiB; scaled so the total lands near `targetBytes`.
const shape = (i: number) =>
  i % 500 === 499
    ? 24 * 1024 * 1024
    : i % 20 === 19
      ? 1024 * 1024 + (i % 997) * 300
      : 2048 + ((i * 7919) % 150) * 1024
let rawTotal = 0
for (let i = 0; i < files; i++) rawTotal += shape(i)
const scale = targetBytes / rawTotal
const sizeOf = (i: number) => Math.round(shape(i) * scale)

const dir = await mkdtemp(join(tmpdir(), 'upkit-migrate-bench-'))
const credentials = { accessKeyId: 'bench', secretAccessKey: randomBytes(24).toString('base64url') }
// Its own process, as a real bucket would be: in ours it would compete with the migration for one event loop.
const serverProcess = spawn(
  process.execPath,
  [
    // e.g. BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the server.
    ...(process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    fileURLToPath(new URL('../../local-s3/bin/upkit-local-s3.mjs', import.meta.url)),
    '--dir',
    join(dir, 's3'),
  ],
  {
    env: {
      ...process.env,
      LOCAL_S3_ACCESS_KEY_ID: credentials.accessKeyId,
      LOCAL_S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
)
const server = {
  endpoint: await new Promise<string>((resolve, reject) => {
    serverProcess.stdout.setEncoding('utf8')
    serverProcess.stdout.once('data', (text: string) => resolve(text.trim()))
    serverProcess.once('exit', (code) => reject(new Error(`local S3 server exited (${code})`)))
  }),
  close: async () => {
    serverProcess.kill()
  },
}
const database = await createDatabase({
  ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : { dataDir: join(dir, 'db') }),
  migrationsDir: fileURLToPath(new URL('../../testing/prisma/migrations', import.meta.url)),
  createClient: (adapter) => new PrismaClient({ adapter }),
})
try {
  const storage = createS3BucketStorage(
    s3Presets.local({ endpoint: server.endpoint, bucket: 'upkit', credentials }),
  )
  await storage.ensureBucket()
  // rclone as an operator would run it (its defaults: 4 transfers), and with 8 transfers like upkit's default
  // concurrency; each into its own empty bucket on the same server, copying the same folder.
  const rcloneRuns = (process.env.RCLONE_TRANSFERS ?? 'default,8').split(',')
  for (const transfers of rcloneRuns) {
    await createS3BucketStorage(
      s3Presets.local({ endpoint: server.endpoint, bucket: `rclone-${transfers}`, credentials }),
    ).ensureBucket()
  }

  let started = Date.now()
  const fixture = await writeLegacyFixture({ dir, files, sizeOf, bigFiles: false, edgeCases: false })
  await createLegacyTables(database.prisma, fixture)
  console.log(
    `fixture: ${fixture.expected.migrated} files, ${(fixture.expected.migratedBytes / 2 ** 20).toFixed(0)} MiB in ${Date.now() - started} ms (${database.describe})`,
  )

  started = Date.now()
  let lastPhase = ''
  const report = await migrateUploads({
    source: legacyTableSource(database.prisma),
    store: prismaMigrationStore(database.prisma),
    routes: legacyRoutes(database.prisma, fixture.taskCompany),
    storage,
    uploadsDir: fixture.uploadsDir,
    concurrency,
    onProgress: (progress) => {
      if (progress.phase === lastPhase) return
      lastPhase = progress.phase
      if (process.env.BENCH_PHASES) console.log(`  ${progress.phase} at ${Date.now() - started} ms`)
    },
  })
  const ours = (Date.now() - started) / 1000
  if (report.failures.length > 0) throw new Error(`failures: ${JSON.stringify(report.failures.slice(0, 5))}`)
  const line = (name: string, seconds: number) =>
    `${name}: ${seconds.toFixed(2)} s, ${(report.migrated / seconds).toFixed(0)} files/s, ${(report.migratedBytes / seconds / 1e6).toFixed(1)} MB/s`
  console.log(line(`upkit migrate (concurrency ${concurrency})`, ours))

  const rclone = spawnSync('rclone', ['version'], { encoding: 'utf8' })
  if (rclone.status !== 0) {
    console.log('rclone not installed (apt-get install -y rclone); skipping the comparison')
  } else {
    // The machine's AWS_CA_BUNDLE makes rclone refuse a plain-http endpoint; it is irrelevant here.
    const { AWS_CA_BUNDLE: _ignored, ...inherited } = process.env
    const env = {
      ...inherited,
      RCLONE_CONFIG_LOCAL_TYPE: 's3',
      RCLONE_CONFIG_LOCAL_PROVIDER: 'Other',
      RCLONE_CONFIG_LOCAL_ENDPOINT: server.endpoint,
      RCLONE_CONFIG_LOCAL_ACCESS_KEY_ID: credentials.accessKeyId,
      RCLONE_CONFIG_LOCAL_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      RCLONE_CONFIG_LOCAL_FORCE_PATH_STYLE: 'true',
      RCLONE_CONFIG_LOCAL_REGION: 'us-east-1',
    }
    for (const transfers of rcloneRuns) {
      const flags = transfers === 'default' ? [] : ['--transfers', transfers]
      started = Date.now()
      const run = spawnSync('rclone', ['copy', fixture.uploadsDir, `local:rclone-${transfers}`, ...flags], {
        env,
        encoding: 'utf8',
      })
      const theirs = (Date.now() - started) / 1000
      if (run.status !== 0) throw new Error(`rclone failed: ${run.stderr}`)
      const name = transfers === 'default' ? 'defaults' : `--transfers ${transfers}`
      console.log(line(`rclone copy (${name})`, theirs))
      console.log(`  ratio (rclone time / upkit time): ${(theirs / ours).toFixed(2)}x`)
    }
  }
} finally {
  await database.close()
  await server.close()
  await rm(dir, { recursive: true, force: true })
}
