import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { PrismaPg } from '@prisma/adapter-pg'
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import pg from 'pg'
import { PrismaPGlite } from 'pglite-prisma-adapter'
import { lockDataDir } from './data-dir-lock'
import { PrismaClient } from './generated/prisma/client'
import { noExternalEntities, readMigrations, withSchemaEngine } from './schema-engine'

export interface DatabaseOptions {
  /**
   * PostgreSQL connection string. When set, the database is that server (through `@prisma/adapter-pg`) and
   * `dataDir` is ignored. Default: unset, so a plain `pnpm start` works with no server at all.
   */
  databaseUrl?: string | undefined
  /**
   * Folder for the embedded PGlite database, used when `databaseUrl` is unset (then it is required; there is
   * no default so that data never lands somewhere the operator did not choose). Created if missing. One process
   * at a time: a second one gets `DataDirLockedError`.
   */
  dataDir?: string | undefined
}

export interface Database {
  /**
   * The Prisma client. On PGlite there is one connection: inside `$transaction(async (tx) => …)` use only `tx`,
   * since a query on `prisma` waits for the transaction and so never finishes. `BigInt` fields (Upload.size) are
   * `bigint` and need explicit JSON serialization; `Bytes` fields come back as `Uint8Array`.
   */
  prisma: PrismaClient
  kind: 'pglite' | 'postgres'
  /** Where the data lives, for logs: the URL without its password, or the PGlite folder. */
  describe: string
  /** Migrations this start-up applied, oldest first; empty when the schema was already current. */
  appliedMigrations: string[]
  /** Disconnects and, for PGlite, releases the data folder. */
  close(): Promise<void>
}

/**
 * Opens the database and applies pending migrations from `prisma/migrations` (recorded in Prisma's own
 * `_prisma_migrations` table, so `prisma migrate` sees the same history).
 */
export async function createDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl !== undefined && options.databaseUrl !== '') {
    return openPostgres(options.databaseUrl)
  }
  if (options.dataDir === undefined || options.dataDir === '') {
    throw new Error('createDatabase needs either databaseUrl (PostgreSQL) or dataDir (embedded PGlite).')
  }
  return openPglite(resolve(options.dataDir))
}

async function openPostgres(databaseUrl: string): Promise<Database> {
  const describe = describeUrl(databaseUrl)
  // One connection for migrations: the engine takes a session-level advisory lock so that two servers
  // starting together do not both migrate, and that lock only means something if every statement (and the
  // unlock) runs on the session that holds it.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 })
  let appliedMigrations: string[]
  try {
    appliedMigrations = await migrate(new PrismaPg(pool), describe)
  } finally {
    await pool.end()
  }
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) })
  return {
    prisma,
    kind: 'postgres',
    describe,
    appliedMigrations,
    close: () => prisma.$disconnect(),
  }
}

async function openPglite(dataDir: string): Promise<Database> {
  await mkdir(dataDir, { recursive: true })
  const lock = await lockDataDir(dataDir)
  let client: PGlite | undefined
  try {
    client = await PGlite.create({ dataDir })
    const describe = `PGlite at ${dataDir}`
    const appliedMigrations = await migrate(new PrismaPGlite(client), describe)
    const prisma = new PrismaClient({ adapter: new PrismaPGlite(client) })
    const pglite = client
    return {
      prisma,
      kind: 'pglite',
      describe,
      appliedMigrations,
      close: async () => {
        try {
          await prisma.$disconnect()
          await pglite.close()
        } finally {
          await lock.release()
        }
      },
    }
  } catch (error) {
    await client?.close().catch(() => {})
    await lock.release()
    throw error
  }
}

async function migrate(factory: SqlMigrationAwareDriverAdapterFactory, describe: string): Promise<string[]> {
  const migrationsList = await readMigrations()
  try {
    const { appliedMigrationNames } = await withSchemaEngine(factory, (engine) =>
      engine.applyMigrations({ migrationsList, filters: noExternalEntities }),
    )
    return appliedMigrationNames
  } catch (error) {
    throw new Error(`Applying migrations to ${describe} failed: ${(error as Error).message}`, {
      cause: error,
    })
  }
}

/** The URL with its password (and any query-string secrets) removed. */
export function describeUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl)
    url.password = ''
    url.search = ''
    return url.toString()
  } catch {
    return 'PostgreSQL (unparsable URL)'
  }
}
