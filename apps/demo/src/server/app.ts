import { mkdirSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createHTTPHandler } from '@trpc/server/adapters/standalone'
import { type LocalS3Server, startLocalS3 } from '@upkit/local-s3'
import { createUpkit } from '@upkit/server'
import { type BucketStorage, browserUploadCors, createS3BucketStorage, s3Presets } from '@upkit/storage'
import { prismaUploadStore } from '@upkit/store-prisma'
import { demoPaths } from '../shared/paths'
import type { DemoConfig } from './config'
import { type DemoDatabase, openDemoDatabase } from './database'
import { createAppRouter } from './router'
import { loadOrCreateSecret } from './secrets'
import { seedDemoData } from './seed'
import { readCookie, SESSION_COOKIE, SessionCodec } from './session'
import { createStaticHandler } from './static-files'
import { authedProcedure, type DemoContext, type DemoUser } from './trpc'
import { createUploadRoutes } from './upload-routes'

const WEB_ROOT = fileURLToPath(new URL('../../dist', import.meta.url))
const LOCAL_BUCKET = 'upkit'
/** tRPC requests carry ids and names only (file bytes go to the bucket); logos are the largest at ~1.4 MiB. */
const MAX_TRPC_BODY_BYTES = 2 * 1024 * 1024

export interface DemoServer {
  readonly url: string
  readonly database: DemoDatabase
  readonly storage: BucketStorage
  close(): Promise<void>
}

export async function startDemoServer(config: DemoConfig): Promise<DemoServer> {
  const cleanups: (() => Promise<void>)[] = []
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
  }
  try {
    mkdirSync(config.dataDir, { recursive: true })
    const database = await openDemoDatabase(
      config.databaseUrl ? { databaseUrl: config.databaseUrl } : { dataDir: join(config.dataDir, 'db') },
    )
    cleanups.push(() => database.close())
    await seedDemoData(database.prisma)

    let localS3: LocalS3Server | undefined
    let storage: BucketStorage
    if (config.storage) {
      storage = createS3BucketStorage(config.storage)
    } else {
      const credentials = {
        accessKeyId: 'upkit-local',
        secretAccessKey: loadOrCreateSecret(join(config.dataDir, 'local-s3-secret')),
      }
      localS3 = await startLocalS3({
        dir: join(config.dataDir, 's3'),
        port: config.localS3Port,
        ...credentials,
      })
      const server = localS3
      cleanups.push(() => server.close())
      storage = createS3BucketStorage(
        s3Presets.local({ endpoint: localS3.endpoint, bucket: LOCAL_BUCKET, credentials }),
      )
    }

    const sessions = new SessionCodec(
      config.sessionSecret ?? loadOrCreateSecret(join(config.dataDir, 'session-secret')),
    )
    const secureCookies = config.publicUrl.startsWith('https:')
    const resolveUser = async (req: IncomingMessage): Promise<DemoUser | null> => {
      const userId = sessions.decode(readCookie(req.headers.cookie, SESSION_COOKIE))
      if (!userId) return null
      return database.prisma.user.findUnique({ where: { id: userId }, select: { id: true, companyId: true } })
    }

    const setSessionCookie = (res: ServerResponse) => (userId: string | null) =>
      res.setHeader(
        'set-cookie',
        userId ? sessions.cookie(userId, secureCookies) : sessions.clearCookie(secureCookies),
      )
    const upkit = createUpkit({
      storage,
      store: prismaUploadStore(database.prisma, { describe: database.describe }),
      routes: createUploadRoutes(database.prisma),
      paths: demoPaths,
      // Plain requests (/files/:id) carry no response to set a cookie on; they never sign anyone in.
      context: async (req) => ({ user: await resolveUser(req), setSessionCookie: () => {} }),
    })
    // upkit's procedures on the demo's own signed-in procedure: its middleware and error formatter apply.
    const appRouter = createAppRouter({ prisma: database.prisma, uploads: upkit.router(authedProcedure) })

    const trpcHandler = createHTTPHandler({
      router: appRouter,
      basePath: '/trpc/',
      maxBodySize: MAX_TRPC_BODY_BYTES,
      createContext: async ({ req, res }): Promise<DemoContext> => ({
        user: await resolveUser(req),
        setSessionCookie: setSessionCookie(res),
      }),
      onError: ({ error, path }) => {
        if (error.code === 'INTERNAL_SERVER_ERROR')
          console.error(`tRPC ${path ?? '?'} failed:`, error.cause ?? error)
      },
    })
    const serveStatic = createStaticHandler(WEB_ROOT)

    const server: Server = createServer((req, res) => {
      const handle = async () => {
        if (await upkit.http(req, res)) return
        if (req.url?.startsWith('/trpc/')) return trpcHandler(req, res)
        if (req.method === 'GET' || req.method === 'HEAD') return serveStatic(req, res)
        res.writeHead(405).end()
      }
      handle().catch((error: unknown) => {
        console.error(error)
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
        res.end('Internal error')
      })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(config.port, config.host, resolve)
    })
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        }),
    )
    const { port } = server.address() as AddressInfo
    const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`

    if (localS3) {
      // Browsers PUT straight to the bucket, so the bucket must allow the app's origin (and expose ETag,
      // which multipart uploads need to complete).
      const origins = [
        ...new Set([config.port === 0 ? url : config.publicUrl, url, url.replace('127.0.0.1', 'localhost')]),
      ]
      await storage.ensureBucket({ cors: browserUploadCors(origins) })
    }
    // Abandoned uploads (PENDING past their expiry, FAILED) and objects without a row are removed in the
    // background; a sweep that fails is logged and retried at the next tick.
    const stopSweeper = upkit.startSweeper({ intervalMs: config.sweepIntervalMs })
    cleanups.push(async () => stopSweeper())
    return { url, database, storage, close }
  } catch (error) {
    await close()
    throw error
  }
}
