import { fileURLToPath } from 'node:url'
import { createDatabase, type Database } from '@upkit/db'
import { PrismaClient } from '../generated/prisma/client'

// The demo's client, generated from prisma/schema (its models plus the copied upkit.prisma) by postinstall.
export type { Prisma } from '../generated/prisma/client'
export { PrismaClient, TaskFileKind } from '../generated/prisma/client'

export const schemaPath = fileURLToPath(new URL('../../prisma/schema', import.meta.url))
export const migrationsDir = fileURLToPath(new URL('../../prisma/migrations', import.meta.url))

export type DemoDatabase = Database<PrismaClient>

/** PostgreSQL at `databaseUrl`, else embedded PGlite in `dataDir`; the demo's migrations applied either way. */
export function openDemoDatabase(
  location: { databaseUrl: string } | { dataDir: string },
): Promise<DemoDatabase> {
  return createDatabase({
    ...location,
    migrationsDir,
    createClient: (adapter) => new PrismaClient({ adapter }),
  })
}
