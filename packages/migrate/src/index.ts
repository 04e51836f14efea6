export { main } from './cli'
export type { LegacyReference, LegacySource, MigratedReference } from './legacy-source'
export type { MigrateUploadsOptions, MigrationProgress, MigrationReport } from './migrate-uploads'
export { migrateUploads } from './migrate-uploads'
export type {
  MigrationEnvironment,
  MigrationSetup,
  MigrationSetupFactory,
} from './migration-setup'
export { defineMigrationSetup } from './migration-setup'
export type {
  MigratedUpload,
  MigrationBatch,
  MigrationItem,
  MigrationItemStatus,
  MigrationStore,
  PlannedItem,
} from './migration-store'
export type { MigrationProblem, MigrationRoute, MigrationRoutes } from './plan'
export type { PrismaClientWithUpkitMigration, PrismaTransactionOf } from './prisma-migration-store'
export { prismaMigrationStore } from './prisma-migration-store'
export { formatReport } from './report'
