// One app instance for the two-instance test, run as its own process: the test app's tRPC router over HTTP on a
// shared PostgreSQL database and a shared bucket, sweeping every second. It prints JSON lines the test reads:
// `{ ready: url }` once listening, `{ confirmed: uploadId }` per onConfirmed, `{ sweep: report }` per sweep.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createHTTPHandler } from '@trpc/server/adapters/standalone'
import { createS3BucketStorage, s3Presets } from '@upkit/storage'
import type { TestBucket, TestDatabase } from '@upkit/testing'
import { PrismaClient } from '@upkit/testing/prisma'
import { createDatabase } from '../../../db/src/index'
import { createTestApp, type TestContext } from './test-app'

const env = (name: string) => {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is required`)
  return value
}
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`)

const database = await createDatabase({
  databaseUrl: env('DATABASE_URL'),
  migrationsDir: fileURLToPath(new URL('../../../testing/prisma/migrations', import.meta.url)),
  createClient: (adapter) => new PrismaClient({ adapter }),
})
const credentials = { accessKeyId: env('S3_ACCESS_KEY_ID'), secretAccessKey: env('S3_SECRET_ACCESS_KEY') }
const storage = createS3BucketStorage(
  s3Presets.local({ endpoint: env('S3_ENDPOINT'), bucket: env('S3_BUCKET'), credentials }),
)
const app = createTestApp(
  { url: env('DATABASE_URL'), prisma: database.prisma, close: () => database.close() } satisfies TestDatabase,
  { storage } as TestBucket,
  {
    // No grace: the sweeper races the clients' own confirms, which must still confirm each upload once.
    confirmGraceMs: 0,
    hooks: {
      onConfirmed: async ({ upload }) => {
        print({ confirmed: upload.id })
      },
    },
  },
)
// The app's own rows (tasks) live in memory in the test app: each instance is told the shared task.
app.tasks.set(env('TASK_ID'), env('COMPANY_ID'))

const handler = createHTTPHandler({
  router: app.appRouter,
  createContext: ({ req }): TestContext => {
    const user = req.headers['x-test-user']
    return { user: typeof user === 'string' ? (JSON.parse(user) as TestContext['user']) : null }
  },
  // The test prints this process's stderr when a call fails: the cause of a 500, which its answer hides.
  onError: ({ path, error }) => {
    if (error.code === 'INTERNAL_SERVER_ERROR') console.error(`${path}:`, error.cause ?? error)
  },
})
const server = createServer((req, res) => {
  // The standalone adapter serves the router at the root; the client calls /trpc/<path> like the demo's.
  req.url = (req.url ?? '/').replace(/^\/trpc/, '')
  handler(req, res)
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))

// As `startSweeper` ticks (a tick does not wait for the last sweep: the lease keeps sweeps apart), with reports.
const timer = setInterval(() => {
  app.upkit
    .sweep()
    .then((report) => print({ sweep: report }))
    .catch((error: unknown) => print({ sweepError: String(error) }))
}, 1000)

process.on('SIGTERM', () => {
  clearInterval(timer)
  server.close()
  server.closeAllConnections()
  void database.close().finally(() => process.exit(0))
})
print({ ready: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })
