import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { createMigration, DataDirLockedError, pendingSchemaChanges, readSchemaFiles } from './index'
import {
  type FixtureDatabase,
  fixtureMigrationsDir,
  fixtureSchemaPath,
  openFixtureDatabase,
} from './test-fixtures/fixture-database'

const tempDirs: string[] = []
async function tempDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'upkit-db-test-'))
  tempDirs.push(dir)
  return join(dir, 'pglite')
}
afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })))
})

/**
 * A fresh database in the run's throwaway cluster (started by @upkit/testing's global setup). Done here rather
 * than with @upkit/testing's helper because @upkit/testing depends on this package.
 */
async function freshPostgresUrl(): Promise<URL> {
  const url = new URL(inject('postgresAdminUrl'))
  const name = `db_test_${process.pid}_${Date.now()}`
  const admin = new pg.Client({ connectionString: url.toString() })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE "${name}"`)
  } finally {
    await admin.end()
  }
  url.pathname = `/${name}`
  return url
}

async function migrationNames(): Promise<string[]> {
  const entries = await readdir(fixtureMigrationsDir, { withFileTypes: true })
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
}

async function appliedInTable(db: FixtureDatabase): Promise<string[]> {
  const rows = await db.prisma.$queryRaw<{ migration_name: string }[]>`
    SELECT migration_name FROM _prisma_migrations
    WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name`
  return rows.map((row) => row.migration_name)
}

/** Writes a row with bytes and a size past 2^53, reads it back. */
async function roundTrip(db: FixtureDatabase): Promise<void> {
  const body = new Uint8Array([0, 1, 2, 253, 254, 255])
  const size = 2n ** 53n + 11n
  const slug = `round-trip-${Date.now()}`
  await db.prisma.note.create({ data: { slug, body, size }, select: { id: true } })
  const read = await db.prisma.note.findUniqueOrThrow({ where: { slug }, select: { body: true, size: true } })
  expect(read.body).toBeInstanceOf(Uint8Array)
  expect(Array.from(read.body ?? [])).toEqual(Array.from(body))
  expect(read.size).toBe(size)
}

describe('migrations', () => {
  it('match the fixture schema', async () => {
    expect(await pendingSchemaChanges(fixtureSchemaPath, fixtureMigrationsDir)).toBeNull()
  })

  it('are authored from a multi-file schema folder, and then match it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'upkit-db-schema-'))
    tempDirs.push(dir)
    const schemaDir = join(dir, 'schema')
    const migrationsDir = join(dir, 'migrations')
    await mkdir(join(schemaDir, 'nested'), { recursive: true })
    await writeFile(join(schemaDir, 'main.prisma'), 'datasource db {\n  provider = "postgresql"\n}\n')
    await writeFile(join(schemaDir, 'nested', 'thing.prisma'), 'model Thing {\n  id Int @id\n}\n')
    expect((await readSchemaFiles(schemaDir)).map(([path]) => path)).toEqual([
      join(schemaDir, 'main.prisma'),
      join(schemaDir, 'nested', 'thing.prisma'),
    ])

    const folder = await createMigration({ schemaPath: schemaDir, migrationsDir, name: 'init' })
    expect(folder).toMatch(/^\d{14}_init$/)
    expect(await readFile(join(migrationsDir, `${folder}`, 'migration.sql'), 'utf8')).toContain(
      'CREATE TABLE "Thing"',
    )
    expect(await pendingSchemaChanges(schemaDir, migrationsDir)).toBeNull()
  })
})

describe('PGlite', () => {
  it('applies every migration to an empty folder, then nothing on reopen, and keeps the data', async () => {
    const dataDir = await tempDataDir()
    const first = await openFixtureDatabase({ dataDir })
    expect(first.kind).toBe('pglite')
    expect(first.appliedMigrations).toEqual(await migrationNames())
    expect(await appliedInTable(first)).toEqual(await migrationNames())
    await roundTrip(first)
    await first.prisma.note.create({ data: { slug: 'kept' }, select: { id: true } })
    await first.close()

    const second = await openFixtureDatabase({ dataDir })
    try {
      expect(second.appliedMigrations).toEqual([])
      expect(await appliedInTable(second)).toEqual(await migrationNames())
      expect(
        await second.prisma.note.findUnique({ where: { slug: 'kept' }, select: { slug: true } }),
      ).toEqual({ slug: 'kept' })
    } finally {
      await second.close()
    }
  })

  it("runs off the app's event loop: timers fire while a statement is busy in the database", async () => {
    const db = await openFixtureDatabase({ dataDir: await tempDataDir() })
    try {
      let ticks = 0
      const timer = setInterval(() => {
        ticks += 1
      }, 10)
      // Half a second of work inside PostgreSQL: an in-process PGlite (wasm, synchronous) would hold the loop
      // for all of it, so no tick could run until it ended.
      await db.prisma.$queryRaw`SELECT pg_sleep(0.5)::text AS slept`
      const during = ticks
      clearInterval(timer)
      expect(during).toBeGreaterThanOrEqual(5)
    } finally {
      await db.close()
    }
  })

  it('refuses a second open of the same folder in the same process', async () => {
    const dataDir = await tempDataDir()
    const db = await openFixtureDatabase({ dataDir })
    try {
      const error = await openFixtureDatabase({ dataDir }).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(DataDirLockedError)
      expect((error as DataDirLockedError).pid).toBe(process.pid)
    } finally {
      await db.close()
    }
    // Released on close: the folder opens again.
    await (await openFixtureDatabase({ dataDir })).close()
  })

  it('refuses a folder another live process holds, and takes it over once that process is gone', async () => {
    const dataDir = await tempDataDir()
    const child = await holdInChild(dataDir)
    try {
      const error = await openFixtureDatabase({ dataDir }).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(DataDirLockedError)
      expect((error as DataDirLockedError).pid).toBe(child.pid)
      expect((error as Error).message).toContain(dataDir)
      expect((error as Error).message).toContain(String(child.pid))
    } finally {
      // SIGKILL: no chance to release the lock, which is the stale case we want next.
      child.kill('SIGKILL')
      await once(child, 'exit')
    }
    const db = await openFixtureDatabase({ dataDir })
    await db.close()
  })
})

describe('PostgreSQL', () => {
  it('applies every migration to an empty database, then nothing, and round-trips BigInt and Bytes', async () => {
    const url = await freshPostgresUrl()
    // Trust auth ignores it; it is here to check that `describe` never shows it.
    url.password = 'not-for-logs'
    const first = await openFixtureDatabase({ databaseUrl: url.toString() })
    try {
      expect(first.kind).toBe('postgres')
      expect(first.describe).not.toContain('not-for-logs')
      expect(first.describe).toContain(url.pathname)
      expect(first.appliedMigrations).toEqual(await migrationNames())
      await roundTrip(first)
    } finally {
      await first.close()
    }
    const second = await openFixtureDatabase({ databaseUrl: url.toString() })
    try {
      expect(second.appliedMigrations).toEqual([])
      expect(await appliedInTable(second)).toEqual(await migrationNames())
    } finally {
      await second.close()
    }
  })
})

async function holdInChild(dataDir: string): Promise<ChildProcess & { pid: number }> {
  const fixture = fileURLToPath(new URL('./test-fixtures/hold-data-dir.ts', import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, dataDir], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  let output = ''
  child.stdout.setEncoding('utf8')
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      output += chunk
      if (output.includes('ready\n')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`lock holder exited early (code ${code}): ${output}`)))
  })
  if (child.pid === undefined) throw new Error('lock holder has no pid')
  return child as ChildProcess & { pid: number }
}

// Provided by @upkit/testing's global setup (root vitest.config.ts); repeated here because this package cannot
// depend on @upkit/testing, which depends on it.
declare module 'vitest' {
  export interface ProvidedContext {
    postgresAdminUrl: string
  }
}
