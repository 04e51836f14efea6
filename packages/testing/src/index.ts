export type { TestPostgres } from './postgres'
export { createDatabaseUrl, startPostgres } from './postgres'
export type { TestBucket, TestDatabase, TestTenant } from './services'
export { seedTenant, startTestBucket, startTestDatabase } from './services'
