import { fileURLToPath } from 'node:url'
import { createDatabase, type Database } from '../database'
import { PrismaClient } from './generated/prisma/client'

export const fixtureSchemaPath = fileURLToPath(new URL('./prisma/schema.prisma', import.meta.url))
export const fixtureMigrationsDir = fileURLToPath(new URL('./prisma/migrations', import.meta.url))

export type FixtureDatabase = Database<PrismaClient>

/** `createDatabase` as an app calls it, with the fixture schema's client and migrations. */
export function openFixtureDatabase(
  location: { databaseUrl: string } | { dataDir: string },
): Promise<FixtureDatabase> {
  return createDatabase({
    ...location,
    migrationsDir: fixtureMigrationsDir,
    createClient: (adapter) => new PrismaClient({ adapter }),
  })
}
