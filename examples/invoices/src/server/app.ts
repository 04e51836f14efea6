import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createHTTPHandler } from '@trpc/server/adapters/standalone'
import { startLocalS3 } from '@upkit/local-s3'
import {
  type BucketStorage,
  browserUploadCors,
  createS3BucketStorage,
  type S3StorageConfig,
  s3Presets,
} from '@upkit/storage'
import { contextFromRequest } from './auth'
import { type InvoicesDatabase, openInvoicesDatabase } from './database'
import { createAppRouter } from './router'
import { seedInvoices } from './seed'
import { createStaticHandler } from './static-files'
import { createInvoicesUpkit } from './upkit'

const WEB_ROOT = fileURLToPath(new URL('../../dist', import.meta.url))
/** tRPC bodies carry ids and names (receipts go to the bucket); a vendor logo is the largest at ~700 KiB. */
const MAX_TRPC_BODY_BYTES = 1024 * 1024

export interface InvoicesConfig {
  readonly port: number
  readonly host: string
  /** Embedded defaults: the PGlite folder and the local bucket live here. */
  readonly dataDir: string
  /** PostgreSQL when set, else PGlite in `dataDir`. */
  readonly databaseUrl?: string | undefined
  /** An external bucket when set, else a local S3 server in-process (port `localS3Port`, 0 = any). */
  readonly storage?: S3StorageConfig | undefined
  readonly localS3Port?: number
}

export interface InvoicesServer {
  readonly url: string
  readonly database: InvoicesDatabase
  readonly storage: BucketStorage
  close(): Promise<void>
}

export async function startInvoicesServer(config: InvoicesConfig): Promise<InvoicesServer> {
  const cleanups: (() => Promise<void>)[] = []
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
  }
  try {
    mkdirSync(config.dataDir, { recursive: true })
    const database = await openInvoicesDatabase(
      config.databaseUrl ? { databaseUrl: config.databaseUrl } : { dataDir: join(config.dataDir, 'db') },
    )
    cleanups.push(() => database.close())
    await seedInvoices(database.prisma)
    const { prisma } = database

    let storage: BucketStorage
    let ownBucket = false
    if (config.storage) storage = createS3BucketStorage(config.storage)
    else {
      // Only this process signs for the embedded bucket, so a fresh secret per start is enough.
      const credentials = { accessKeyId: 'invoices', secretAccessKey: randomBytes(24).toString('base64url') }
      const localS3 = await startLocalS3({
        dir: join(config.dataDir, 's3'),
        port: config.localS3Port ?? 0,
        ...credentials,
      })
      cleanups.push(() => localS3.close())
      storage = createS3BucketStorage(
        s3Presets.local({ endpoint: localS3.endpoint, bucket: 'receipts', credentials }),
      )
      ownBucket = true
    }

    const context = (req: Parameters<typeof contextFromRequest>[1]) => contextFromRequest(prisma, req)
    const upkit = createInvoicesUpkit({ prisma, storage, context, describeDatabase: database.describe })
    const trpcHandler = createHTTPHandler({
      router: createAppRouter({ prisma, upkit }),
      basePath: '/trpc/',
      maxBodySize: MAX_TRPC_BODY_BYTES,
      createContext: ({ req }) => context(req),
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
    // Browsers PUT receipts straight to the bucket, so it must allow this origin (an external bucket is
    // configured by its owner).
    if (ownBucket)
      await storage.ensureBucket({ cors: browserUploadCors([url, url.replace('127.0.0.1', 'localhost')]) })
    const stopSweeper = upkit.startSweeper()
    cleanups.push(async () => stopSweeper())
    return { url, database, storage, close }
  } catch (error) {
    await close()
    throw error
  }
}
