export { formatReport, main } from './cli'
export type {
  LogoTarget,
  MigrateUploadsOptions,
  MigrationProblem,
  MigrationProgress,
  MigrationReport,
} from './migrate-uploads'
export { migrateUploads } from './migrate-uploads'
