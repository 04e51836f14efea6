import { mkdirSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createHTTPHandler } from '@trpc/server/adapters/standalone'
import type { LocalS3Server } from '@upkit/local-s3'
import { createUpkit, originCheck } from '@upkit/server'
import {
  type BucketStorage,
  browserUploadCors,
  bucketDoctorHealthCheck,
  createS3BucketStorage,
  ensureAbortIncompleteMultipartRule,
  type S3StorageConfig,
  s3Presets,
} from '@upkit/storage'
import { prismaRateLimiter, prismaUploadStore } from '@upkit/store-prisma'
import { z } from 'zod'
import { demoPaths } from '../shared/paths'
import { TRPC_MAX_BATCH_SIZE } from '../shared/trpc-limits'
import type { DemoConfig } from './config'
import { type DemoDatabase, openDemoDatabase } from './database'
import { startLocalS3InWorker } from './local-s3-thread'
import { createAppRouter } from './router'
import { loadOrCreateSecret } from './secrets'
import { seedDemoData } from './seed'
import { readCookie, SESSION_COOKIE, SESSION_MAX_AGE_SECONDS, SessionCodec } from './session'
import { createStaticHandler } from './static-files'
import { authedProcedure, type DemoContext } from './trpc'
import { createUploadRoutes } from './upload-routes'

const WEB_ROOT = fileURLToPath(new URL('../../dist', import.meta.url))
const LOCAL_BUCKET = 'upkit'
/** tRPC requests carry ids and names only (file bytes go to the bucket); logos are the largest at ~1.4 MiB. */
const MAX_TRPC_BODY_BYTES = 2 * 1024 * 1024
/** Session ids are uuids (the column's type). */
const sessionIdSchema = z.uuid()

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
    let storageConfig: S3StorageConfig
    if (config.storage) {
      storageConfig = config.storage
    } else {
      const credentials = {
        accessKeyId: 'upkit-local',
        secretAccessKey: loadOrCreateSecret(join(config.dataDir, 'local-s3-secret')),
      }
      // On its own thread: the bucket's per-request work (SigV4, hashing, writes) stays off the API's event loop.
      localS3 = await startLocalS3InWorker({
        dir: join(config.dataDir, 's3'),
        port: config.localS3Port,
        ...credentials,
      })
      const server = localS3
      cleanups.push(() => server.close())
      storageConfig = s3Presets.local({ endpoint: localS3.endpoint, bucket: LOCAL_BUCKET, credentials })
    }
    const storage = createS3BucketStorage(storageConfig)

    const sessions = new SessionCodec(
      config.sessionSecret ?? loadOrCreateSecret(join(config.dataDir, 'session-secret')),
    )
    const secureCookies = config.publicUrl.startsWith('https:')
    const { prisma } = database
    const findSession = async (req: IncomingMessage) => {
      const sessionId = sessions.decode(readCookie(req.headers.cookie, SESSION_COOKIE))
      // Signed ids are uuids; the check keeps anything else from failing the cast below.
      if (!sessionId || !sessionIdSchema.safeParse(sessionId).success) return null
      // Every request reads this, so it is one statement: Prisma's `select` of a relation is two (the session,
      // then its user), and each is a round trip and a share of the event loop at every upload call.
      const rows = await prisma.$queryRaw<{ id: string; userId: string; companyId: string }[]>`
        SELECT s."id", u."id" AS "userId", u."companyId"
        FROM "Session" s JOIN "User" u ON u."id" = s."userId"
        WHERE s."id" = ${sessionId}::uuid AND s."expiresAt" > (${new Date().toISOString()}::timestamptz AT TIME ZONE 'UTC')`
      const row = rows[0]
      return row ? { id: row.id, user: { id: row.userId, companyId: row.companyId } } : null
    }
    /** `res` is null for upkit's plain requests (/files/:id): they read the session and never change it. */
    const createContext = async (req: IncomingMessage, res: ServerResponse | null): Promise<DemoContext> => {
      const session = await findSession(req)
      return {
        user: session?.user ?? null,
        clientAddress: req.socket.remoteAddress ?? 'unknown',
        startSession: async (userId) => {
          if (!res) throw new Error('A session starts on a tRPC request only.')
          const now = Date.now()
          // A new id at every sign-in, and the old row gone: a session id planted before sign-in never signs in.
          await prisma.session.deleteMany({
            where: { OR: [{ expiresAt: { lte: new Date(now) } }, ...(session ? [{ id: session.id }] : [])] },
          })
          const created = await prisma.session.create({
            data: { userId, expiresAt: new Date(now + SESSION_MAX_AGE_SECONDS * 1000) },
            select: { id: true },
          })
          res.setHeader('set-cookie', sessions.cookie(created.id, secureCookies))
        },
        endSession: async () => {
          if (session) await prisma.session.deleteMany({ where: { id: session.id } })
          res?.setHeader('set-cookie', sessions.clearCookie(secureCookies))
        },
        setHeader: (name, value) => res?.setHeader(name, value),
      }
    }

    // Known once the server listens (PORT=0 picks a free port): the public URL, and the listening address in dev.
    let origins: readonly string[] = [config.publicUrl]
    const guard = originCheck({ origins: () => origins })
    const upkit = createUpkit({
      storage,
      store: prismaUploadStore(prisma, { describe: database.describe }),
      routes: createUploadRoutes(prisma),
      paths: demoPaths,
      context: (req) => createContext(req, null),
      origins: () => origins,
      // `GET /healthz?doctor` from this machine: the bucket checked end to end (no ping, so not in the public report).
      healthChecks: { bucketDoctor: bucketDoctorHealthCheck(storageConfig, { origin: () => origins[0] }) },
      ...(config.confirmGraceMs === undefined ? {} : { confirmGraceMs: config.confirmGraceMs }),
      ...(config.createsPerMinute === undefined
        ? {}
        : { rateLimits: { create: { limit: config.createsPerMinute, windowMs: 60_000 } } }),
    })
    // upkit's procedures on the demo's own signed-in procedure: its middleware and error formatter apply.
    const appRouter = createAppRouter({
      prisma,
      uploads: upkit.router(authedProcedure),
      limiter: prismaRateLimiter(prisma),
    })

    const trpcHandler = createHTTPHandler({
      router: appRouter,
      basePath: '/trpc/',
      maxBodySize: MAX_TRPC_BODY_BYTES,
      maxBatchSize: TRPC_MAX_BATCH_SIZE,
      createContext: ({ req, res }) => createContext(req, res),
      // Answers name tenants' tasks, files and people: no shared cache (proxy, CDN, back/forward) may keep them.
      responseMeta: () => ({ headers: { 'cache-control': 'no-store' } }),
      onError: ({ error, path }) => {
        if (error.code === 'INTERNAL_SERVER_ERROR')
          console.error(`tRPC ${path ?? '?'} failed:`, error.cause ?? error)
      },
    })
    // Thumbnails (/files/:id redirects) and direct PUTs go to the bucket: the only other origin the page may use.
    const bucketOrigin = new URL(await storage.presignGet({ key: 'csp-probe', expiresInSeconds: 60 })).origin
    const pageHeaders = securityHeaders(bucketOrigin)
    const serveStatic = createStaticHandler(WEB_ROOT)

    const server: Server = createServer((req, res) => {
      const handle = async () => {
        for (const [name, value] of Object.entries(pageHeaders)) res.setHeader(name, value)
        // /healthz answers any Host (load balancers probe by address); upkit guards its file routes itself.
        if (await upkit.http(req, res)) return
        if (guard(req, res)) return
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

    origins = [
      ...new Set([config.port === 0 ? url : config.publicUrl, url, url.replace('127.0.0.1', 'localhost')]),
    ]
    if (localS3) {
      // Browsers PUT straight to the bucket, so the bucket must allow the app's origin (and expose ETag,
      // which multipart uploads need to complete).
      await storage.ensureBucket({ cors: browserUploadCors([...origins]) })
      // Multipart uploads a closed tab left behind are aborted by the bucket after a day, as on a real provider.
      await ensureAbortIncompleteMultipartRule(storageConfig)
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

/**
 * Headers on every answer of the app. The CSP allows the app's own scripts and styles only (no inline script: an
 * injected one does not run), the bucket for thumbnails and direct PUTs, blob:/data: for local previews, and no
 * framing (clickjacking).
 */
function securityHeaders(bucketOrigin: string): Record<string, string> {
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' blob: data: ${bucketOrigin}`,
    `media-src 'self' blob: ${bucketOrigin}`,
    `connect-src 'self' ${bucketOrigin}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ')
  return {
    'content-security-policy': csp,
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin',
    'x-content-type-options': 'nosniff',
  }
}
