import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import { PrismaPg } from '@prisma/adapter-pg'
import type {
  SqlDriverAdapterFactory,
  SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils'
import pg from 'pg'
import { lockDataDir } from './data-dir-lock'
import { type PgliteThread, startPgliteThread } from './pglite-thread'
import { applyMigrations } from './schema-engine'

/** What `createClient` receives: a driver adapter for PostgreSQL or PGlite, as the generated client takes it. */
export type DatabaseAdapter = SqlDriverAdapterFactory

/** The little of a generated PrismaClient that this package uses. */
export interface PrismaClientLike {
  $disconnect(): Promise<void>
}

export interface DatabaseOptions<Client extends PrismaClientLike> {
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
  /** The app's `prisma/migrations` folder (`<timestamp>_<name>/migration.sql`, as Prisma's CLI lays it out). */
  migrationsDir: string
  /**
   * Builds the app's generated client on the adapter: `(adapter) => new PrismaClient({ adapter })`. The app's
   * schema generated that client, so this package never imports one and works with any schema.
   */
  createClient: (adapter: DatabaseAdapter) => Client
}

export interface Database<Client extends PrismaClientLike> {
  /**
   * The client `createClient` built. On PGlite there is one connection: inside `$transaction(async (tx) => …)`
   * use only `tx`, since a query on `prisma` waits for the transaction and so never finishes. `BigInt` fields are
   * `bigint` and need explicit JSON serialization; `Bytes` fields come back as `Uint8Array`.
   */
  prisma: Client
  kind: 'pglite' | 'postgres'
  /** Where the data lives, for logs: the URL without its password, or the PGlite folder. */
  describe: string
  /** Migrations this start-up applied, oldest first; empty when the schema was already current. */
  appliedMigrations: string[]
  /** Disconnects and, for PGlite, releases the data folder. */
  close(): Promise<void>
}

/**
 * Opens the database and applies pending migrations from `migrationsDir` (recorded in Prisma's own
 * `_prisma_migrations` table, so `prisma migrate` sees the same history).
 */
export async function createDatabase<Client extends PrismaClientLike>(
  options: DatabaseOptions<Client>,
): Promise<Database<Client>> {
  const migrationsDir = resolve(options.migrationsDir)
  if (options.databaseUrl !== undefined && options.databaseUrl !== '') {
    return openPostgres(options.databaseUrl, migrationsDir, options.createClient)
  }
  if (options.dataDir === undefined || options.dataDir === '') {
    throw new Error('createDatabase needs either databaseUrl (PostgreSQL) or dataDir (embedded PGlite).')
  }
  return openPglite(resolve(options.dataDir), migrationsDir, options.createClient)
}

async function openPostgres<Client extends PrismaClientLike>(
  databaseUrl: string,
  migrationsDir: string,
  createClient: (adapter: DatabaseAdapter) => Client,
): Promise<Database<Client>> {
  const describe = describeUrl(databaseUrl)
  // One connection for migrations: the engine takes a session-level advisory lock so that two servers
  // starting together do not both migrate, and that lock only means something if every statement (and the
  // unlock) runs on the session that holds it.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 })
  let appliedMigrations: string[]
  try {
    appliedMigrations = await migrate(new PrismaPg(pool), migrationsDir, describe)
  } finally {
    await pool.end()
  }
  const prisma = createClient(new PrismaPg({ connectionString: databaseUrl }))
  return {
    prisma,
    kind: 'postgres',
    describe,
    appliedMigrations,
    close: () => prisma.$disconnect(),
  }
}

async function openPglite<Client extends PrismaClientLike>(
  dataDir: string,
  migrationsDir: string,
  createClient: (adapter: DatabaseAdapter) => Client,
): Promise<Database<Client>> {
  await mkdir(dataDir, { recursive: true })
  const lock = await lockDataDir(dataDir)
  let thread: PgliteThread | undefined
  let pool: pg.Pool | undefined
  try {
    thread = await startPgliteThread(dataDir)
    const describe = `PGlite at ${dataDir}`
    // One pool of one connection for the migrations and the app: the thread serves one connection at a time, and
    // a second pool could connect before the thread saw the first one's close.
    pool = new pg.Pool(thread.pool)
    const appliedMigrations = await migrate(new PrismaPg(pool), migrationsDir, describe)
    const prisma = createClient(new PrismaPg(pool))
    const opened = { thread, pool }
    return {
      prisma,
      kind: 'pglite',
      describe,
      appliedMigrations,
      close: async () => {
        try {
          await prisma.$disconnect()
          await opened.pool.end()
          await opened.thread.close()
        } finally {
          await lock.release()
        }
      },
    }
  } catch (error) {
    await pool?.end().catch(() => {})
    await thread?.close().catch(() => {})
    await lock.release()
    throw error
  }
}

async function migrate(
  factory: SqlMigrationAwareDriverAdapterFactory,
  migrationsDir: string,
  describe: string,
): Promise<string[]> {
  try {
    return await applyMigrations(factory, migrationsDir)
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
