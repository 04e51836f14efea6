import { fileURLToPath } from 'node:url'
import { createDatabase, type Database } from '@upkit/db'
import { PrismaClient } from '../generated/prisma/client'

// The example's client, generated from prisma/schema (its models plus the copied upkit.prisma) by postinstall.
export type { Prisma } from '../generated/prisma/client'
export { PrismaClient } from '../generated/prisma/client'

export const schemaPath = fileURLToPath(new URL('../../prisma/schema', import.meta.url))
export const migrationsDir = fileURLToPath(new URL('../../prisma/migrations', import.meta.url))

export type InvoicesDatabase = Database<PrismaClient>

/** PostgreSQL at `databaseUrl`, else embedded PGlite in `dataDir`; this app's migrations applied either way. */
export function openInvoicesDatabase(
  location: { databaseUrl: string } | { dataDir: string },
): Promise<InvoicesDatabase> {
  return createDatabase({
    ...location,
    migrationsDir,
    createClient: (adapter) => new PrismaClient({ adapter }),
  })
}
