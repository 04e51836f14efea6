import { spawn } from 'node:child_process'
import { createHash, randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { initTRPC } from '@trpc/server'
import { createUpkit, upkitErrorFormatter } from '@upkit/server'
import type { BucketStorage } from '@upkit/storage'
import { prismaUploadStore } from '@upkit/store-prisma'
import { startTestBucket, startTestDatabase, type TestBucket, type TestDatabase } from '@upkit/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type LegacyFixture, writeLegacyFixture } from './fixtures'
import { type MigrateUploadsOptions, type MigrationReport, migrateUploads } from './migrate-uploads'
import { prismaMigrationStore } from './prisma-migration-store'
import {
  createLegacyTables,
  legacyRoutes,
  legacyTableSource,
  type TestContext,
  type Tx,
} from './test-support/legacy-table-source'

/** The fixture's logos that the `logo` route refuses: SVG, pixel bomb, over 1 MiB. */
const REFUSED_LOGOS = ['logo-globex.svg', 'logo-bomb.png', 'logo-huge.png']
const bin = fileURLToPath(new URL('../bin/upkit.mjs', import.meta.url))
const setupModule = fileURLToPath(new URL('./test-support/test-migration-setup.ts', import.meta.url))
const cleanups: (() => Promise<unknown>)[] = []
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

interface Setup {
  db: TestDatabase
  bucket: TestBucket
  fixture: LegacyFixture
  routes: ReturnType<typeof legacyRoutes>
}

async function setup(fixtureOptions: Partial<Parameters<typeof writeLegacyFixture>[0]> = {}): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'upkit-migrate-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const db = await startTestDatabase()
  cleanups.push(() => db.close())
  const bucket = await startTestBucket()
  cleanups.push(() => bucket.close())
  const fixture = await writeLegacyFixture({ dir, ...fixtureOptions })
  await createLegacyTables(db.prisma, fixture)
  return { db, bucket, fixture, routes: legacyRoutes(db.prisma, fixture.taskCompany) }
}

function migrate(
  { db, bucket, fixture, routes }: Setup,
  options: Partial<MigrateUploadsOptions<Tx>> = {},
): Promise<MigrationReport> {
  return migrateUploads({
    source: legacyTableSource(db.prisma),
    store: prismaMigrationStore(db.prisma),
    storage: bucket.storage,
    routes,
    uploadsDir: fixture.uploadsDir,
    ...options,
  })
}

async function bucketListing(storage: BucketStorage): Promise<{ key: string; size: number }[]> {
  const objects: { key: string; size: number }[] = []
  for await (const object of storage.list({ prefix: '' }))
    objects.push({ key: object.key, size: object.size })
  return objects
}

interface LegacyFileRow {
  id: string
  path: string | null
  upload_id: string | null
  created_at: Date
  file_name: string
}

const legacyFiles = (db: TestDatabase) =>
  db.prisma.$queryRaw<LegacyFileRow[]>`
    SELECT id::text, path, upload_id::text, created_at, file_name FROM legacy_files ORDER BY id`
const legacyLogos = (db: TestDatabase) =>
  db.prisma.$queryRaw<
    {
      company_id: string
      path: string | null
      logo: Uint8Array | null
      logo_hash: string | null
      logo_mime_type: string | null
    }[]
  >`SELECT company_id::text, path, logo, logo_hash, logo_mime_type FROM legacy_logos ORDER BY company_id`
const uploadsOf = (db: TestDatabase) =>
  db.prisma.upkitUpload.findMany({
    orderBy: { key: 'asc' },
    select: {
      id: true,
      route: true,
      tenantId: true,
      ownerId: true,
      status: true,
      key: true,
      fileName: true,
      mimeType: true,
      size: true,
      partSize: true,
      input: true,
      metadata: true,
      expiresAt: true,
      createdAt: true,
    },
  })
const itemsOf = (db: TestDatabase) =>
  db.prisma.upkitMigrationItem.findMany({
    orderBy: { source: 'asc' },
    select: {
      source: true,
      sourcePath: true,
      status: true,
      uploadId: true,
      key: true,
      size: true,
      md5: true,
      sha256: true,
      error: true,
    },
  })

/** Everything a migration leaves behind, with random ids (upload ids, keys) replaced by what they stand for. */
async function endState({ db, bucket }: Setup) {
  const uploads = await uploadsOf(db)
  const byId = new Map(uploads.map((upload) => [upload.id, upload]))
  const items = await itemsOf(db)
  const pathOfKey = new Map(items.map((item) => [item.key, item.sourcePath]))
  const objects = await bucketListing(bucket.storage)
  return {
    files: (await legacyFiles(db)).map(({ upload_id, ...row }) => {
      const upload = upload_id === null ? undefined : byId.get(upload_id)
      return {
        ...row,
        upload:
          upload === undefined
            ? upload_id
            : { ...upload, id: '<id>', key: upload.key.replace(upload.id, '<id>'), expiresAt: null },
      }
    }),
    uploads: uploads.length,
    logos: await legacyLogos(db),
    items: items.map(({ uploadId, key, error, ...item }) => ({
      ...item,
      planned: uploadId !== null && key?.endsWith(uploadId) === true,
      error: error === null ? null : 'set',
    })),
    // Every object belongs to exactly one upload: nothing uploaded twice, nothing stray.
    objects: objects
      .map((object) => ({
        path: uploads.some((u) => u.key === object.key) ? pathOfKey.get(object.key) : `STRAY ${object.key}`,
        size: object.size,
      }))
      .sort((a, b) =>
        String(a.path) < String(b.path) ? -1 : String(a.path) > String(b.path) ? 1 : a.size - b.size,
      ),
    multipartInProgress: (await bucket.storage.listMultipartUploads()).length,
  }
}

function expectFullRun(report: MigrationReport, fixture: LegacyFixture) {
  const { expected } = fixture
  expect(report.migrated).toBe(expected.migrated)
  expect(report.migratedBytes).toBe(expected.migratedBytes)
  expect(report.alreadyDone).toBe(0)
  expect(report.missing.map((m) => m.source).sort()).toEqual(expected.missing)
  expect(report.orphans).toEqual(expected.orphans)
  expect(report.symlinks).toEqual(expected.symlinks)
  expect(report.failures.map((f) => f.source).sort()).toEqual(expected.failures)
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

describe('migrateUploads', () => {
  let clean: Setup

  beforeAll(async () => {
    clean = await setup()
  }, 120_000)

  it('plans without changing anything on --dry-run', async () => {
    const { fixture } = clean
    const before = await endState(clean)
    const report = await migrate(clean, { dryRun: true })
    // Refused logos and files are planned too: they are checked when read, and a dry run reads nothing.
    let refused = 0
    for (const name of REFUSED_LOGOS) refused += (await stat(join(fixture.uploadsDir, name))).size
    const refusedFiles = fixture.expected.refusedFiles
    expect(report.planned.files).toBe(fixture.expected.migrated + REFUSED_LOGOS.length + refusedFiles)
    expect(report.planned.inline).toBe(fixture.expected.logos + REFUSED_LOGOS.length)
    expect(report.planned.bucket).toBe(fixture.expected.taskFiles + refusedFiles)
    expect(report.planned.bytes).toBeGreaterThanOrEqual(fixture.expected.migratedBytes + refused)
    expect(report.migrated).toBe(0)
    expect(report.missing.map((m) => m.source).sort()).toEqual(fixture.expected.missing)
    expect(report.orphans).toEqual(fixture.expected.orphans)
    expect(await endState(clean)).toEqual(before)
    expect(await bucketListing(clean.bucket.storage)).toEqual([])
    expect(await clean.db.prisma.upkitMigrationItem.count()).toBe(0)
  })

  it('migrates every referenced file, verified, with exact report counts', async () => {
    const { db, fixture } = clean
    const report = await migrate(clean)
    expectFullRun(report, fixture)
    const reason = (path: string) => report.failures.find((f) => f.path === path)?.reason
    // Inline images are checked as the route checks a live one; a refused one says why and what to do.
    expect(reason('logo-globex.svg')).toMatch(
      /^refused by route "logo": .*SVG.*upload it again through the app$/,
    )
    expect(reason('logo-bomb.png')).toMatch(/20000×20000 pixels.*4096×4096/)
    expect(reason('logo-huge.png')).toMatch(/the logo is 2 MiB; it can be at most 1 MiB/)
    // Bucket files meet their route's policy, as a live upload would.
    const taskDir = fixture.taskIds[2]
    expect(reason(`${taskDir}/empty.txt`)).toMatch(/^refused by route "attachment": .*is empty/)
    expect(reason(`${taskDir}/comments/pasted.png`)).toMatch(
      /^refused by route "commentImage": .*application\/octet-stream; comment images must be one of: image\/\*/,
    )
    expect(report.failures.find((f) => f.path.includes('..'))?.reason).toMatch(/escapes/)
    expect(report.failures.find((f) => f.path.endsWith('hostname.txt'))?.reason).toMatch(/symbolic link/)

    const uploads = new Map((await uploadsOf(db)).map((upload) => [upload.id, upload]))
    const rows = await legacyFiles(db)
    const references = new Map(fixture.references.map((r) => [r.source, r]))
    const migrated = rows.filter((row) => row.upload_id !== null)
    expect(migrated).toHaveLength(fixture.expected.taskFiles)
    expect(uploads.size).toBe(fixture.expected.taskFiles)
    for (const row of migrated) {
      const upload = uploads.get(row.upload_id as string)
      const reference = references.get(`task-file:${row.id}`)
      expect(row.path).toBeNull()
      expect(upload?.status).toBe('CONFIRMED')
      // The same layout as a live upload's key: <prefix><tenant>/<route>/<id>.
      expect(upload?.key).toBe(`uploads/${reference?.tenantId}/${reference?.route}/${upload?.id}`)
      expect(upload).toMatchObject({
        route: reference?.route,
        tenantId: reference?.tenantId,
        ownerId: reference?.ownerId,
        input: reference?.input,
        metadata: {},
        fileName: row.file_name,
      })
      // The migrated file keeps its place in lists ordered by creation.
      expect(upload?.createdAt).toEqual(row.created_at)
    }
    // Unmigrated rows keep their legacy path.
    expect(rows.filter((row) => row.upload_id === null).every((row) => row.path !== null)).toBe(true)
    const byName = (name: string) =>
      migrated
        .map((row) => ({ row, upload: uploads.get(row.upload_id as string) }))
        .find(({ row }) => row.file_name.endsWith(name))?.upload
    expect(byName('report.pdf')?.mimeType).toBe('application/pdf')
    expect(byName('photo.png')?.mimeType).toBe('image/png')
    expect(byName('notes.txt')?.mimeType).toBe('text/plain')
    expect(byName('no-extension')?.mimeType).toBe('application/octet-stream')
    expect(byName('backup 33MiB.zip')?.partSize).toBe(8 * 1024 * 1024)

    const logos = new Map((await legacyLogos(db)).map((row) => [row.company_id, row]))
    const acme = logos.get(fixture.companyIds[0] as string)
    const logoFile = await readFile(join(fixture.uploadsDir, 'logo-acme.png'))
    expect(acme?.path).toBeNull()
    expect(acme?.logo_mime_type).toBe('image/png')
    expect(Buffer.from(acme?.logo ?? []).equals(logoFile)).toBe(true)
    expect(acme?.logo_hash).toBe(sha256(logoFile))
    for (const id of [1, 3, 4].map((n) => fixture.companyIds[n] as string)) {
      expect(logos.get(id)?.logo).toBeNull()
      expect(logos.get(id)?.path).not.toBeNull()
    }
  }, 120_000)

  it('serves every migrated file byte-identical through the app, to members of its tenant only', async () => {
    const { db, bucket, routes } = clean
    const upkit = createUpkit({ storage: bucket.storage, store: prismaUploadStore(db.prisma), routes })
    const t = initTRPC.context<TestContext>().create({ errorFormatter: upkitErrorFormatter })
    const caller = t.createCallerFactory(t.router({ uploads: upkit.router(t.procedure) }))
    const items = new Map((await itemsOf(db)).map((item) => [item.uploadId, item.sourcePath]))
    const uploads = await uploadsOf(db)
    expect(uploads.length).toBe(clean.fixture.expected.taskFiles)
    const outsider = caller({ user: { id: randomUUID(), companyId: randomUUID() } }).uploads
    for (const upload of uploads) {
      const member = caller({ user: { id: randomUUID(), companyId: upload.tenantId } }).uploads
      const { url } = await member.download({ uploadId: upload.id })
      const response = await fetch(url)
      expect(response.status).toBe(200)
      const path = items.get(upload.id) as string
      const served = sha256(Buffer.from(await response.arrayBuffer()))
      expect(served, path).toBe(sha256(await readFile(join(clean.fixture.uploadsDir, path))))
      await expect(outsider.download({ uploadId: upload.id })).rejects.toMatchObject({ code: 'NOT_FOUND' })
    }
  }, 120_000)

  it('does nothing on a second run', async () => {
    const { fixture } = clean
    const before = await endState(clean)
    const report = await migrate(clean)
    expect(report.migrated).toBe(0)
    // The refused ones are planned again, and fail again.
    expect(report.planned.files).toBe(REFUSED_LOGOS.length + fixture.expected.refusedFiles)
    expect(report.alreadyDone).toBe(fixture.expected.migrated)
    expect(report.orphans).toEqual(fixture.expected.orphans)
    expect(await endState(clean)).toEqual(before)
  }, 60_000)

  it('fails, and removes, every copy whose bytes differ from the file (PUT ETag check, no HEAD)', async () => {
    const corrupt = await setup({ files: 20, sizeOf: (i) => 1000 + i, bigFiles: false, edgeCases: false })
    const { db, bucket } = corrupt
    // The real bucket receives one flipped byte: what a faulty disk, proxy or client would do to the data.
    const corrupting: BucketStorage = {
      ...bucket.storage,
      putObject: (input) => {
        if (!(input.body instanceof Uint8Array)) return bucket.storage.putObject(input)
        const body = Uint8Array.from(input.body)
        body[0] = (body[0] ?? 0) ^ 0xff
        return bucket.storage.putObject({ ...input, body })
      },
    }
    const report = await migrate(corrupt, { storage: corrupting })
    expect(report.migrated).toBe(1) // the logo, which lives in the database
    expect(report.failures).toHaveLength(20)
    for (const failure of report.failures) expect(failure.reason).toMatch(/^verification failed: .*ETag/)
    expect(await bucketListing(bucket.storage)).toEqual([])
    expect(await db.prisma.upkitUpload.count()).toBe(0)
    expect((await legacyFiles(db)).filter((row) => row.path === null)).toEqual([])

    // Once the bytes arrive intact, a re-run migrates them.
    const again = await migrate(corrupt)
    expect(again.migrated).toBe(20)
    expect(again.failures).toEqual([])
  }, 120_000)

  it('ends a run killed with SIGKILL, then re-run, exactly as one clean run', async () => {
    const killed = await setup()
    const { db, bucket, fixture } = killed
    const child = spawn(
      process.execPath,
      [
        bin,
        'migrate',
        '--source',
        setupModule,
        '--uploads-dir',
        fixture.uploadsDir,
        '--concurrency',
        '2',
        '--batch-size',
        '20',
        '--log-every',
        '10',
      ],
      {
        env: {
          PATH: process.env.PATH,
          DATABASE_URL: db.url,
          S3_PROVIDER: 'local',
          S3_ENDPOINT: bucket.endpoint,
          S3_BUCKET: bucket.bucket,
          S3_ACCESS_KEY_ID: bucket.credentials.accessKeyId,
          S3_SECRET_ACCESS_KEY: bucket.credentials.secretAccessKey,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let output = ''
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    const exit = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    )
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        const match = /progress: (\d+)\//.exec(
          output.split('\n').findLast((line) => line.startsWith('progress:')) ?? '',
        )
        if (match && Number(match[1]) >= 120) {
          child.kill('SIGKILL')
          resolve()
        }
      })
      child.once('exit', () => reject(new Error(`the CLI ended before it could be killed:\n${output}`)))
    })
    expect(await exit).toBe('SIGKILL')

    // Killed mid-way: some references committed, some not.
    const done = await db.prisma.upkitMigrationItem.count({ where: { status: 'DONE' } })
    const total = await db.prisma.upkitMigrationItem.count()
    expect(done).toBeGreaterThan(0)
    expect(done).toBeLessThan(total)

    const report = await migrate(killed)
    expect(report.migrated + report.alreadyDone).toBe(fixture.expected.migrated)
    expect(report.alreadyDone).toBe(done)
    expect(await endState(killed)).toEqual(await endState(clean))

    // --delete-source on a finished migration deletes exactly the migrated files, after re-checking them.
    const again = await migrate(killed, { deleteSource: true })
    const migratedPaths = new Set(
      (await itemsOf(db)).filter((item) => item.status === 'DONE').map((item) => item.sourcePath),
    )
    expect(again.deletedSources).toBe(migratedPaths.size)
    for (const path of migratedPaths) expect(existsSync(join(fixture.uploadsDir, path))).toBe(false)
    for (const path of fixture.expected.orphans) expect(existsSync(join(fixture.uploadsDir, path))).toBe(true)
    for (const name of REFUSED_LOGOS) expect(existsSync(join(fixture.uploadsDir, name))).toBe(true)
  }, 180_000)
})
