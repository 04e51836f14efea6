// The setup module the CLI test passes as `--source`: what an app's own module looks like, on the test schema.
import { fileURLToPath } from 'node:url'
import { createDatabase } from '@upkit/db'
import { createS3BucketStorage, storageConfigFromEnv } from '@upkit/storage'
import { PrismaClient } from '@upkit/testing/prisma'
import { defineMigrationSetup } from '../migration-setup'
import { prismaMigrationStore } from '../prisma-migration-store'
import { legacyRoutes, legacyTableSource } from './legacy-table-source'

const migrationsDir = fileURLToPath(new URL('../../../testing/prisma/migrations', import.meta.url))

export default defineMigrationSetup(async ({ env }) => {
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is required')
  const parsed = storageConfigFromEnv(env)
  if (!parsed.ok) throw new Error(parsed.errors.join('; '))
  const database = await createDatabase({
    databaseUrl: env.DATABASE_URL,
    migrationsDir,
    createClient: (adapter) => new PrismaClient({ adapter }),
  })
  const prisma = database.prisma
  return {
    source: legacyTableSource(prisma),
    store: prismaMigrationStore(prisma),
    storage: createS3BucketStorage(parsed.config),
    // The migration never authorizes a caller, so the routes need no task list here.
    routes: legacyRoutes(prisma, new Map()),
    describe: { database: database.describe, bucket: parsed.config.bucket },
    close: () => database.close(),
  }
})
