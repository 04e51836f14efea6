import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { createDatabase, type Database, DataDirLockedError, UploadKind } from './index'
import { migrationsDir, pendingSchemaChanges, readMigrations } from './schema-engine'

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
  const entries = await readdir(migrationsDir, { withFileTypes: true })
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
}

async function appliedInTable(db: Database): Promise<string[]> {
  const rows = await db.prisma.$queryRaw<{ migration_name: string }[]>`
    SELECT migration_name FROM _prisma_migrations
    WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name`
  return rows.map((row) => row.migration_name)
}

/** Writes a company with a logo and an upload with a size past 2^53, reads them back. */
async function roundTrip(db: Database): Promise<void> {
  const logo = new Uint8Array([0, 1, 2, 253, 254, 255])
  const size = 2n ** 53n + 11n
  const company = await db.prisma.company.create({ data: { name: 'Acme', slug: `acme-${Date.now()}`, logo } })
  await db.prisma.upload.create({
    data: {
      companyId: company.id,
      kind: UploadKind.ATTACHMENT,
      key: `k/${company.id}`,
      fileName: 'big.bin',
      mimeType: 'application/octet-stream',
      size,
      expiresAt: new Date(Date.now() + 60_000),
    },
  })
  const read = await db.prisma.company.findUniqueOrThrow({
    where: { id: company.id },
    include: { uploads: true },
  })
  expect(read.logo).toBeInstanceOf(Uint8Array)
  expect(Array.from(read.logo ?? [])).toEqual(Array.from(logo))
  expect(read.uploads[0]?.size).toBe(size)
}

describe('migrations', () => {
  it('match prisma/schema.prisma (run `pnpm --filter @upkit/db migration:create <name>` if not)', async () => {
    expect(await pendingSchemaChanges(await readMigrations())).toBeNull()
  })
})

describe('PGlite', () => {
  it('applies every migration to an empty folder, then nothing on reopen, and keeps the data', async () => {
    const dataDir = await tempDataDir()
    const first = await createDatabase({ dataDir })
    expect(first.kind).toBe('pglite')
    expect(first.appliedMigrations).toEqual(await migrationNames())
    expect(await appliedInTable(first)).toEqual(await migrationNames())
    await roundTrip(first)
    await first.prisma.company.create({ data: { name: 'Kept', slug: 'kept' } })
    await first.close()

    const second = await createDatabase({ dataDir })
    try {
      expect(second.appliedMigrations).toEqual([])
      expect(await appliedInTable(second)).toEqual(await migrationNames())
      expect(await second.prisma.company.findUnique({ where: { slug: 'kept' } })).toMatchObject({
        name: 'Kept',
      })
    } finally {
      await second.close()
    }
  })

  it('refuses a second open of the same folder in the same process', async () => {
    const dataDir = await tempDataDir()
    const db = await createDatabase({ dataDir })
    try {
      const error = await createDatabase({ dataDir }).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(DataDirLockedError)
      expect((error as DataDirLockedError).pid).toBe(process.pid)
    } finally {
      await db.close()
    }
    // Released on close: the folder opens again.
    await (await createDatabase({ dataDir })).close()
  })

  it('refuses a folder another live process holds, and takes it over once that process is gone', async () => {
    const dataDir = await tempDataDir()
    const child = await holdInChild(dataDir)
    try {
      const error = await createDatabase({ dataDir }).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(DataDirLockedError)
      expect((error as DataDirLockedError).pid).toBe(child.pid)
      expect((error as Error).message).toContain(dataDir)
      expect((error as Error).message).toContain(String(child.pid))
    } finally {
      // SIGKILL: no chance to release the lock, which is the stale case we want next.
      child.kill('SIGKILL')
      await once(child, 'exit')
    }
    const db = await createDatabase({ dataDir })
    await db.close()
  })
})

describe('PostgreSQL', () => {
  it('applies every migration to an empty database, then nothing, and round-trips BigInt and Bytes', async () => {
    const url = await freshPostgresUrl()
    // Trust auth ignores it; it is here to check that `describe` never shows it.
    url.password = 'not-for-logs'
    const first = await createDatabase({ databaseUrl: url.toString() })
    try {
      expect(first.kind).toBe('postgres')
      expect(first.describe).not.toContain('not-for-logs')
      expect(first.describe).toContain(url.pathname)
      expect(first.appliedMigrations).toEqual(await migrationNames())
      await roundTrip(first)
    } finally {
      await first.close()
    }
    const second = await createDatabase({ databaseUrl: url.toString() })
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
