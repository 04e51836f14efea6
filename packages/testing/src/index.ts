export type { TestPostgres } from './postgres'
export { createDatabaseUrl, startPostgres } from './postgres'
export type { TestBucket, TestDatabase } from './services'
export { startTestBucket, startTestDatabase } from './services'
