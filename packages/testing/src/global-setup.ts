import type { TestProject } from 'vitest/node'
import { startPostgres } from './postgres'
// Brings the `ProvidedContext` augmentation (postgresAdminUrl) into this file's program.
import type {} from './services'

/**
 * One throwaway PostgreSQL cluster for the whole run (starting one takes seconds; a database per test file is
 * cheap). Test files get its admin URL through `inject('postgresAdminUrl')` and create their own database.
 */
export default async function setup(project: TestProject) {
  const postgres = await startPostgres()
  project.provide('postgresAdminUrl', postgres.url)
  return async () => {
    await postgres.stop()
  }
}
