import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createDatabase } from '@upkit/db'
import { startLocalS3 } from '@upkit/local-s3'
import { browserUploadCors, createS3BucketStorage, s3Presets } from '@upkit/storage'
import { PrismaClient } from '../generated/prisma/client.js'
import { createApp } from './app.mjs'

const env = (name: string) => {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is required`)
  return value
}

const port = Number(env('PORT'))
const origin = `http://127.0.0.1:${port}`
// build/server/main.mjs → the app's root, where prisma/ and build/web live.
const appRoot = fileURLToPath(new URL('../../', import.meta.url))
const webRoot = join(appRoot, 'build', 'web')

const database = await createDatabase({
  databaseUrl: env('DATABASE_URL'),
  migrationsDir: join(appRoot, 'prisma', 'migrations'),
  createClient: (adapter) => new PrismaClient({ adapter }),
})
const credentials = { accessKeyId: 'packed-app', secretAccessKey: randomBytes(24).toString('hex') }
const localS3 = await startLocalS3({ dir: env('S3_DIR'), ...credentials })
const storage = createS3BucketStorage(
  s3Presets.local({ endpoint: localS3.endpoint, bucket: 'packed-app', credentials }),
)
// Browsers PUT straight to the bucket: it must allow this origin and expose ETag for multipart.
await storage.ensureBucket({ cors: browserUploadCors([origin]) })

const { upkit, trpc } = createApp({ prisma: database.prisma, storage, describeDatabase: database.describe })

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
}

const server = createServer((req, res) => {
  const handle = async () => {
    if (await upkit.http(req, res)) return
    if (req.url?.startsWith('/trpc/')) return trpc(req, res)
    const path = new URL(req.url ?? '/', origin).pathname
    const file = normalize(join(webRoot, path === '/' ? 'index.html' : path))
    if (!file.startsWith(webRoot)) return res.writeHead(404).end()
    const body = await readFile(file).catch(() => null)
    if (!body) return res.writeHead(404).end()
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body)
  }
  handle().catch((error: unknown) => {
    console.error(error)
    if (!res.headersSent) res.writeHead(500)
    res.end()
  })
})
server.listen(port, '127.0.0.1', () => console.log(`packed app ready at ${origin}`))

const stop = () => {
  server.close()
  server.closeAllConnections()
  void Promise.allSettled([localS3.close(), database.close()]).then(() => process.exit(0))
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
