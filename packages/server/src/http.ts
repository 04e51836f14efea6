import type { IncomingMessage, ServerResponse } from 'node:http'
import { isUpkitError } from '@upkit/core'
import type { PrismaClient } from '@upkit/db'
import type { BucketStorage } from '@upkit/storage'
import type { UpkitUser } from './context'
import { type HealthCheck, runHealthChecks } from './health'
import { createLogoService } from './logos/logo-service'
import { createUploadService, type UploadServiceOptions } from './uploads/upload-service'

export interface UpkitHttpOptions {
  readonly prisma: PrismaClient
  readonly storage: BucketStorage
  /** The host app's authentication: the signed-in user of a request, or null. */
  readonly getUser: (req: IncomingMessage) => Promise<UpkitUser | null>
  /** Dependencies `GET /healthz` pings, by name (e.g. `{ database, bucket }`). */
  readonly health: Record<string, HealthCheck>
  /** The same options as `createUploadsRouter`'s (e.g. `downloadUrlTtlSeconds`), so both serve files alike. */
  readonly uploads?: UploadServiceOptions
}

/** A plain Node handler for upkit's non-tRPC routes; resolves `false` when the request is not one of them. */
export type UpkitHttpHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
const LOGO_PATH = new RegExp(`^/logos/(${UUID})/([0-9a-f]{64})$`)
const FILE_PATH = new RegExp(`^/files/(${UUID})$`)

/**
 * `GET /healthz`; `GET /logos/:companyId/:hash` (logo bytes from the database, cached forever under their hash);
 * `GET /files/:id` (members of the file's company are redirected to a short-lived signed GET, everyone else 404).
 */
export function createUpkitHttpHandler(options: UpkitHttpOptions): UpkitHttpHandler {
  const logos = createLogoService({ prisma: options.prisma })
  const uploads = createUploadService({ prisma: options.prisma, storage: options.storage }, options.uploads)

  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false
    const { pathname } = new URL(req.url ?? '/', 'http://localhost')

    if (pathname === '/healthz') {
      const report = await runHealthChecks(options.health)
      sendJson(res, report.ok ? 200 : 503, report)
      return true
    }

    const logoMatch = LOGO_PATH.exec(pathname)
    if (logoMatch) {
      const logo = await logos.read(logoMatch[1] as string, logoMatch[2] as string)
      if (!logo) {
        sendNotFound(res)
        return true
      }
      const etag = `"${logo.hash}"`
      const headers = {
        etag,
        // The URL names the content hash, so the response can never change: cache it for a year.
        'cache-control': 'public, max-age=31536000, immutable',
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'none'; sandbox",
      }
      if (matchesEtag(req.headers['if-none-match'], etag)) {
        res.writeHead(304, headers).end()
        return true
      }
      res.writeHead(200, { ...headers, 'content-type': logo.mimeType, 'content-length': logo.bytes.length })
      res.end(req.method === 'HEAD' ? undefined : logo.bytes)
      return true
    }

    const fileMatch = FILE_PATH.exec(pathname)
    if (fileMatch) {
      const user = await options.getUser(req)
      const uploadId = fileMatch[1] as string
      const url = user ? await signedFileUrl(uploads, user.companyId, uploadId) : null
      if (!url) {
        // Same answer for "missing" and "not yours": a 403 would confirm the file exists.
        sendNotFound(res)
        return true
      }
      res.writeHead(302, {
        location: url,
        'cache-control': 'private, no-store',
        'referrer-policy': 'no-referrer',
      })
      res.end()
      return true
    }
    return false
  }
}

/** The signed GET for a member's confirmed file; `null` for "missing" and "not yours" alike. Other errors throw. */
async function signedFileUrl(
  uploads: ReturnType<typeof createUploadService>,
  companyId: string,
  uploadId: string,
): Promise<string | null> {
  try {
    return await uploads.downloadUrl(companyId, uploadId, 'view')
  } catch (error) {
    if (isUpkitError(error) && error.code === 'NOT_FOUND') return null
    throw error
  }
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === etag || tag === '*')
}

function sendNotFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' })
  res.end('Not found')
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  })
  res.end(payload)
}
