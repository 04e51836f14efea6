import { spawn } from 'node:child_process'
import { createHash, randomUUID } from 'node:crypto'
import { createReadStream, existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { PrismaClient } from '@upkit/db'
import { createCallerFactory, createUploadsRouter } from '@upkit/server'
import type { BucketStorage } from '@upkit/storage'
import { startTestBucket, startTestDatabase, type TestBucket, type TestDatabase } from '@upkit/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type LegacyFixture, writeLegacyFixture } from './fixtures'
import { type MigrationReport, migrateUploads } from './migrate-uploads'

/** The fixture's logos that `assertLogoAllowed` refuses: SVG, pixel bomb, over 1 MiB. */
const REFUSED_LOGOS = ['logo-globex.svg', 'logo-bomb.png', 'logo-huge.png']
const bin = fileURLToPath(new URL('../bin/upkit.mjs', import.meta.url))
const cleanups: (() => Promise<unknown>)[] = []
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

interface Setup {
  db: TestDatabase
  bucket: TestBucket
  fixture: LegacyFixture
}

async function setup(): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'upkit-migrate-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const db = await startTestDatabase()
  cleanups.push(() => db.close())
  const bucket = await startTestBucket()
  cleanups.push(() => bucket.close())
  const fixture = await writeLegacyFixture({ dir, prisma: db.prisma })
  return { db, bucket, fixture }
}

const sha256 = async (stream: AsyncIterable<Buffer | Uint8Array>) => {
  const hash = createHash('sha256')
  for await (const chunk of stream) hash.update(chunk)
  return hash.digest('hex')
}

async function bucketListing(storage: BucketStorage): Promise<{ key: string; size: number }[]> {
  const objects: { key: string; size: number }[] = []
  for await (const object of storage.list({ prefix: '' }))
    objects.push({ key: object.key, size: object.size })
  return objects
}

/** Everything a migration leaves behind, with random ids (upload ids, keys) replaced by what they stand for. */
async function endState(prisma: PrismaClient, storage: BucketStorage) {
  const uploads = await prisma.upload.findMany({ orderBy: { legacyPath: 'asc' } })
  const byKey = new Map(uploads.map((upload) => [upload.key, upload]))
  const taskFiles = await prisma.taskFile.findMany({ orderBy: { id: 'asc' }, include: { upload: true } })
  const objects = await bucketListing(storage)
  return {
    taskFiles: taskFiles.map(({ upload, uploadId, ...row }) => ({
      ...row,
      migrated: uploadId !== null,
      upload:
        upload === null
          ? null
          : {
              key: upload.key.replace(upload.id, '<id>'),
              fileName: upload.fileName,
              mimeType: upload.mimeType,
              size: upload.size,
              status: upload.status,
              kind: upload.kind,
              legacyPath: upload.legacyPath,
              createdAt: upload.createdAt,
              partSize: upload.partSize,
            },
    })),
    uploads: uploads.length,
    companies: await prisma.company.findMany({
      orderBy: { id: 'asc' },
      select: {
        id: true,
        legacyLogoPath: true,
        logo: true,
        logoHash: true,
        logoMimeType: true,
      },
    }),
    items: (
      await prisma.migrationItem.findMany({
        orderBy: { source: 'asc' },
        select: {
          source: true,
          sourcePath: true,
          status: true,
          size: true,
          md5: true,
          sha256: true,
          error: true,
        },
      })
    ).map((item) => ({ ...item, error: item.error === null ? null : 'set' })),
    // Every object belongs to exactly one Upload: nothing uploaded twice, nothing stray.
    objects: objects
      .map((object) => ({
        legacyPath: byKey.get(object.key)?.legacyPath ?? `STRAY ${object.key}`,
        size: object.size,
      }))
      .sort((a, b) => (a.legacyPath < b.legacyPath ? -1 : a.legacyPath > b.legacyPath ? 1 : a.size - b.size)),
    multipartInProgress: (await storage.listMultipartUploads()).length,
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

describe('migrateUploads', () => {
  let clean: Setup
  let cleanReport: MigrationReport

  beforeAll(async () => {
    clean = await setup()
  }, 120_000)

  it('plans without changing anything on --dry-run', async () => {
    const { db, bucket, fixture } = clean
    const before = await endState(db.prisma, bucket.storage)
    const report = await migrateUploads({
      prisma: db.prisma,
      storage: bucket.storage,
      uploadsDir: fixture.uploadsDir,
      dryRun: true,
    })
    // The refused logos are planned too: logos are checked when read, and a dry run reads nothing.
    let refused = 0
    for (const name of REFUSED_LOGOS) refused += (await stat(join(fixture.uploadsDir, name))).size
    expect(report.planned).toEqual({
      files: fixture.expected.migrated + REFUSED_LOGOS.length,
      bytes: fixture.expected.migratedBytes + refused,
      taskFiles: fixture.expected.taskFiles,
      logos: fixture.expected.logos + REFUSED_LOGOS.length,
    })
    expect(report.migrated).toBe(0)
    expect(report.missing.map((m) => m.source).sort()).toEqual(fixture.expected.missing)
    expect(report.orphans).toEqual(fixture.expected.orphans)
    expect(await endState(db.prisma, bucket.storage)).toEqual(before)
    expect(await bucketListing(bucket.storage)).toEqual([])
    expect(await db.prisma.migrationItem.count()).toBe(0)
  })

  it('migrates every referenced file, verified, with exact report counts', async () => {
    const { db, bucket, fixture } = clean
    cleanReport = await migrateUploads({
      prisma: db.prisma,
      storage: bucket.storage,
      uploadsDir: fixture.uploadsDir,
    })
    expectFullRun(cleanReport, fixture)
    // Logos live only in the database: a file the logo picker would refuse fails with why and what to do.
    const logoFailure = (name: string) => cleanReport.failures.find((f) => f.path === name)?.reason
    expect(logoFailure('logo-globex.svg')).toMatch(
      /PNG, JPEG, WebP or GIF.*resize it and upload it with the logo picker/,
    )
    expect(logoFailure('logo-bomb.png')).toMatch(/20000×20000 pixels.*4096×4096.*logo picker/)
    expect(logoFailure('logo-huge.png')).toMatch(
      /logos can be at most 1 MiB; resize it and upload it with the logo picker/,
    )
    for (const id of fixture.companyIds.slice(1)) {
      const company = await db.prisma.company.findUniqueOrThrow({ where: { id } })
      expect(company.logo).toBeNull()
      expect(company.legacyLogoPath).not.toBeNull()
    }
    expect(cleanReport.failures.find((f) => f.path.includes('..'))?.reason).toMatch(/escapes/)
    expect(cleanReport.failures.find((f) => f.path.endsWith('hostname.txt'))?.reason).toMatch(/symbolic link/)

    const rows = await db.prisma.taskFile.findMany({ include: { upload: true } })
    const migrated = rows.filter((row) => row.upload !== null)
    expect(migrated).toHaveLength(fixture.expected.taskFiles)
    for (const row of migrated) {
      expect(row.path).toBeNull()
      expect(row.upload?.status).toBe('CONFIRMED')
      expect(row.upload?.key).toBe(`companies/${row.companyId}/tasks/${row.taskId}/${row.upload?.id}`)
      // The migrated file keeps its place in lists ordered by creation.
      expect(row.upload?.createdAt).toEqual(row.createdAt)
      expect(row.upload?.kind).toBe(row.kind)
      expect(row.upload?.expiresAt.getTime()).toBeGreaterThan(Date.now() - 600_000)
    }
    // Unmigrated rows keep their legacy path.
    expect(rows.filter((row) => row.upload === null).every((row) => row.path !== null)).toBe(true)
    const byName = (name: string) => migrated.find((row) => row.fileName.endsWith(name))?.upload
    expect(byName('report.pdf')?.mimeType).toBe('application/pdf')
    expect(byName('photo.png')?.mimeType).toBe('image/png')
    expect(byName('notes.txt')?.mimeType).toBe('text/plain')
    expect(byName('no-extension')?.mimeType).toBe('application/octet-stream')
    expect(byName('backup 33MiB.zip')?.partSize).toBe(8 * 1024 * 1024)

    const acme = await db.prisma.company.findUniqueOrThrow({ where: { id: fixture.companyIds[0] as string } })
    const logoFile = await readFile(join(fixture.uploadsDir, 'logo-acme.png'))
    expect(acme.legacyLogoPath).toBeNull()
    expect(acme.logoMimeType).toBe('image/png')
    expect(Buffer.from(acme.logo ?? []).equals(logoFile)).toBe(true)
    expect(acme.logoHash).toBe(createHash('sha256').update(logoFile).digest('hex'))
  }, 120_000)

  it('serves every migrated file byte-identical through the app, to members of its company only', async () => {
    const { db, bucket, fixture } = clean
    const createCaller = createCallerFactory(
      createUploadsRouter({ prisma: db.prisma, storage: bucket.storage }),
    )
    const uploads = await db.prisma.upload.findMany({
      select: { id: true, companyId: true, legacyPath: true },
    })
    expect(uploads.length).toBe(fixture.expected.taskFiles)
    const outsider = createCaller({ user: { id: randomUUID(), companyId: randomUUID() } })
    for (const upload of uploads) {
      const member = createCaller({ user: { id: randomUUID(), companyId: upload.companyId } })
      const { url } = await member.download({ uploadId: upload.id })
      const response = await fetch(url)
      expect(response.status).toBe(200)
      const source = await sha256(createReadStream(join(fixture.uploadsDir, upload.legacyPath as string)))
      const served = createHash('sha256')
        .update(Buffer.from(await response.arrayBuffer()))
        .digest('hex')
      expect(served, upload.legacyPath ?? '').toBe(source)
      await expect(outsider.download({ uploadId: upload.id })).rejects.toMatchObject({ code: 'NOT_FOUND' })
    }
  }, 120_000)

  it('does nothing on a second run', async () => {
    const { db, bucket, fixture } = clean
    const before = await endState(db.prisma, bucket.storage)
    const report = await migrateUploads({
      prisma: db.prisma,
      storage: bucket.storage,
      uploadsDir: fixture.uploadsDir,
    })
    expect(report.migrated).toBe(0)
    expect(report.planned.files).toBe(REFUSED_LOGOS.length) // which fail again
    expect(report.alreadyDone).toBe(fixture.expected.migrated)
    expect(report.orphans).toEqual(fixture.expected.orphans)
    expect(await endState(db.prisma, bucket.storage)).toEqual(before)
  }, 60_000)

  it('fails, and removes, every copy whose bytes differ from the file (PUT ETag check, no HEAD)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'upkit-migrate-corrupt-'))
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    const db = await startTestDatabase()
    cleanups.push(() => db.close())
    const bucket = await startTestBucket()
    cleanups.push(() => bucket.close())
    const fixture = await writeLegacyFixture({
      dir,
      prisma: db.prisma,
      files: 20,
      sizeOf: (i) => 1000 + i,
      bigFiles: false,
      edgeCases: false,
    })
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
    const report = await migrateUploads({
      prisma: db.prisma,
      storage: corrupting,
      uploadsDir: fixture.uploadsDir,
    })
    expect(report.migrated).toBe(1) // the logo, which lives in the database
    expect(report.failures).toHaveLength(20)
    for (const failure of report.failures) expect(failure.reason).toMatch(/^verification failed: .*ETag/)
    expect(await bucketListing(bucket.storage)).toEqual([])
    expect(await db.prisma.upload.count()).toBe(0)
    expect(await db.prisma.taskFile.count({ where: { path: null } })).toBe(0)

    // Once the bytes arrive intact, a re-run migrates them.
    const again = await migrateUploads({
      prisma: db.prisma,
      storage: bucket.storage,
      uploadsDir: fixture.uploadsDir,
    })
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

    // Killed mid-way: some rows committed, some not.
    const done = await db.prisma.migrationItem.count({ where: { status: 'DONE' } })
    const total = await db.prisma.migrationItem.count()
    expect(done).toBeGreaterThan(0)
    expect(done).toBeLessThan(total)

    const report = await migrateUploads({
      prisma: db.prisma,
      storage: bucket.storage,
      uploadsDir: fixture.uploadsDir,
    })
    expect(report.migrated + report.alreadyDone).toBe(fixture.expected.migrated)
    expect(report.alreadyDone).toBe(done)
    expect(await endState(db.prisma, bucket.storage)).toEqual(
      await endState(clean.db.prisma, clean.bucket.storage),
    )

    // --delete-source on a finished migration deletes exactly the migrated files, after re-checking them.
    const again = await migrateUploads({
      prisma: db.prisma,
      storage: bucket.storage,
      uploadsDir: fixture.uploadsDir,
      deleteSource: true,
    })
    const uploads = await db.prisma.upload.findMany({ select: { legacyPath: true } })
    const migratedPaths = new Set([...uploads.map((u) => u.legacyPath), 'logo-acme.png'])
    expect(again.deletedSources).toBe(migratedPaths.size)
    for (const path of migratedPaths) expect(existsSync(join(fixture.uploadsDir, path as string))).toBe(false)
    for (const path of fixture.expected.orphans) expect(existsSync(join(fixture.uploadsDir, path))).toBe(true)
    for (const name of REFUSED_LOGOS) expect(existsSync(join(fixture.uploadsDir, name))).toBe(true)
  }, 180_000)
})
