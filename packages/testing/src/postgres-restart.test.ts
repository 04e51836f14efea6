import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startPostgres, type TestPostgres } from './postgres'

let cluster: TestPostgres
beforeAll(async () => {
  cluster = await startPostgres()
})
afterAll(() => cluster.stop())

it('restart cuts every session and comes back on the same URL with the same data', async () => {
  const url = await cluster.createDatabaseUrl()
  const before = new pg.Client({ connectionString: url })
  // A terminated session emits 'error' on the idle client; unhandled, it would crash the test run.
  const sessionErrors: Error[] = []
  before.on('error', (error) => sessionErrors.push(error))
  await before.connect()
  await before.query('CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)')

  await cluster.restart()

  await expect(before.query('SELECT 1')).rejects.toThrow()
  await before.end().catch(() => {})
  const after = new pg.Client({ connectionString: url })
  await after.connect()
  try {
    expect((await after.query('SELECT n FROM kept')).rows).toEqual([{ n: 42 }])
  } finally {
    await after.end()
  }
})
