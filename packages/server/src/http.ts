import type { IncomingMessage, ServerResponse } from 'node:http'
import { isUpkitError, isUuid, UpkitError, type UpkitPaths } from '@upkit/core'
import { createDiagnosisRunner, type HealthCheck, type HealthReport, runHealthChecks } from './health'
import type { InlineService } from './inline/inline-service'
import type { OriginGuard } from './origin-check'
import type { StoredThumbnail } from './store/upload-store'
import type { UploadService } from './uploads/upload-service'

/** A plain Node handler for upkit's non-tRPC routes; resolves `false` when the request is not one of them. */
export type UpkitHttpHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>

export interface HttpDeps<TCtx> {
  readonly uploads: UploadService
  readonly inline: InlineService
  readonly paths: UpkitPaths
  /** The same context the host's tRPC procedures get, built from a plain request (its session cookie). */
  readonly context: ((req: IncomingMessage) => TCtx | Promise<TCtx>) | undefined
  /** Path of the health report, or `null` for none. */
  readonly healthPath: string | null
  readonly health: Record<string, HealthCheck>
  /** Whether this caller may see what each check uses (database path, internal bucket address). */
  readonly healthDetails: (req: IncomingMessage) => boolean | Promise<boolean>
  /** Refuses `/files/` and inline images to requests naming another host; none when the host gave no origins. */
  readonly originGuard: OriginGuard | undefined
}

/**
 * `GET <healthPath>`; `GET <paths.inline><route>/<owner>/<hash>` (inline image bytes from the app's table, cached
 * forever under their hash); `GET <paths.files><id>` (a caller the route's `authorize` admits is redirected to a
 * short-lived signed GET, shown inline when it is a verified image, as an attachment with `?download`; everyone
 * else gets 404); `GET <paths.files><id>/thumbnail` (its stored preview, same
 * authorization).
 */
export function createHttpHandler<TCtx>(deps: HttpDeps<TCtx>): UpkitHttpHandler {
  const { uploads, inline, paths } = deps
  const diagnose = createDiagnosisRunner(deps.health)
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false
    const { pathname, searchParams } = new URL(req.url ?? '/', 'http://localhost')
    if (deps.healthPath !== null && pathname === deps.healthPath) {
      // No origin guard here: load balancers probe by the instance's own address, not the public name.
      if (diagnose && searchParams.has('doctor') && (await deps.healthDetails(req))) {
        // Operators only; anyone else asking for it gets the plain report below, as if there were no such view.
        const diagnosis = await diagnose()
        sendJson(res, diagnosis.ok ? 200 : 503, diagnosis)
        return true
      }
      const report = await runHealthChecks(deps.health)
      sendJson(res, report.ok ? 200 : 503, (await deps.healthDetails(req)) ? report : publicReport(report))
      return true
    }
    const ours = pathname.startsWith(paths.inline) || pathname.startsWith(paths.files)
    if (ours && deps.originGuard?.(req, res)) return true
    if (pathname.startsWith(paths.inline)) {
      const [route, ownerId, hash, ...rest] = pathname.slice(paths.inline.length).split('/')
      const image =
        route && ownerId && hash && rest.length === 0 ? await inline.read(route, ownerId, hash) : null
      if (!image) return sendNotFound(res)
      const etag = `"${hash}"`
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
      res.writeHead(200, { ...headers, 'content-type': image.mimeType, 'content-length': image.bytes.length })
      res.end(req.method === 'HEAD' ? undefined : image.bytes)
      return true
    }
    if (pathname.startsWith(paths.files)) {
      const [uploadId = '', sub, ...rest] = pathname.slice(paths.files.length).split('/')
      if (!isUuid(uploadId) || rest.length > 0 || !deps.context) return sendNotFound(res)
      if (sub === 'thumbnail') return sendThumbnail(req, res, uploads, await deps.context(req), uploadId)
      if (sub !== undefined) return sendNotFound(res)
      const url = await signedFileUrl(uploads, await deps.context(req), uploadId, downloadMode(searchParams))
      // Same answer for "missing", "not yours" and "not signed in": a 403 would confirm the file exists.
      if (!url) return sendNotFound(res)
      // Only someone the route admits gets here, so saying why the file is withheld reveals nothing.
      if (url instanceof UpkitError) {
        res.writeHead(409, {
          'content-type': 'text/plain; charset=utf-8',
          'x-content-type-options': 'nosniff',
          'cache-control': 'private, no-store',
        })
        res.end(url.message)
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

/**
 * The signed GET for the caller's confirmed file; `null` when it is missing or not theirs, the error when it is
 * quarantined (OBJECT_CHANGED). Other errors throw.
 */
async function signedFileUrl(
  uploads: UploadService,
  ctx: unknown,
  uploadId: string,
  mode: 'attachment' | 'view',
): Promise<string | null | UpkitError> {
  try {
    return await uploads.downloadUrl(ctx, uploadId, mode)
  } catch (error) {
    if (isHiddenError(error)) return null
    if (isUpkitError(error) && error.code === 'OBJECT_CHANGED') return error
    throw error
  }
}

/**
 * `?download` (or `?download=1`) asks for the file as an attachment under its name (a Download link); without it,
 * a verified image opens in the tab and anything else downloads anyway. `?download=0` is the plain view.
 */
function downloadMode(searchParams: URLSearchParams): 'attachment' | 'view' {
  const download = searchParams.get('download')
  return download === null || download === '0' ? 'view' : 'attachment'
}

/**
 * `GET <files><id>/thumbnail`: the stored preview, for whoever may fetch the file itself, else 404 (same answer for
 * missing, not theirs, not signed in and no thumbnail). The bytes were checked at confirm and never change, so the
 * signed-in browser keeps them for a day; nosniff and a sandbox keep them an image whatever a browser would guess.
 */
async function sendThumbnail(
  req: IncomingMessage,
  res: ServerResponse,
  uploads: UploadService,
  ctx: unknown,
  uploadId: string,
): Promise<true> {
  let thumbnail: StoredThumbnail | null
  try {
    thumbnail = await uploads.readThumbnail(ctx, uploadId)
  } catch (error) {
    if (isHiddenError(error)) return sendNotFound(res)
    throw error
  }
  if (!thumbnail) return sendNotFound(res)
  res.writeHead(200, {
    'content-type': thumbnail.mimeType,
    'content-length': thumbnail.bytes.length,
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; sandbox",
    'cache-control': 'private, max-age=86400, immutable',
  })
  res.end(req.method === 'HEAD' ? undefined : thumbnail.bytes)
  return true
}

/** Errors that answer 404: missing, not the caller's, not signed in (a 403 would confirm the file exists). */
function isHiddenError(error: unknown): boolean {
  if (isUpkitError(error) && (error.code === 'NOT_FOUND' || error.code === 'UNAUTHENTICATED')) return true
  return error instanceof Error && 'code' in error && error.code === 'UNAUTHORIZED'
}

/** Up or down per check, nothing about where: the paths and addresses help an attacker map the inside. */
function publicReport(report: HealthReport): { ok: boolean; checks: Record<string, { ok: boolean }> } {
  const checks = Object.fromEntries(Object.entries(report.checks).map(([name, { ok }]) => [name, { ok }]))
  return { ok: report.ok, checks }
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/**
 * A probe from this machine: a loopback peer that also names a loopback host (a DNS-rebinding page reaches the
 * loopback socket under its own name; a reverse proxy on the same machine keeps the public name or adds a
 * forwarding header) and is not a browser page (which sends Sec-Fetch-Site).
 */
export function isLocalProbe(req: IncomingMessage): boolean {
  const peer = req.socket.remoteAddress ?? ''
  const loopbackPeer = peer === '::1' || peer.startsWith('127.') || peer.startsWith('::ffff:127.')
  const host = req.headers.host
  let hostname = ''
  try {
    hostname = host ? new URL(`http://${host}`).hostname : ''
  } catch {}
  const forwarded = req.headers.forwarded !== undefined || req.headers['x-forwarded-for'] !== undefined
  const browser = req.headers['sec-fetch-site'] !== undefined || req.headers.origin !== undefined
  return loopbackPeer && LOOPBACK_HOSTS.has(hostname) && !forwarded && !browser
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === etag || tag === '*')
}

function sendNotFound(res: ServerResponse): true {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' })
  res.end('Not found')
  return true
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
