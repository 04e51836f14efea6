export { formatReport, main } from './cli'
export type {
  MigrateUploadsOptions,
  MigrationProblem,
  MigrationProgress,
  MigrationReport,
} from './migrate-uploads'
export { migrateUploads } from './migrate-uploads'
