import type { IncomingMessage, ServerResponse } from 'node:http'
import { type HealthCheck, runHealthChecks } from './health'

export interface UpkitHttpOptions {
  /** Dependencies `GET /healthz` pings, by name (e.g. `{ database, bucket }`). */
  readonly health: Record<string, HealthCheck>
}

/** A plain Node handler for upkit's non-tRPC routes; resolves `false` when the request is not one of them. */
export type UpkitHttpHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>

export function createUpkitHttpHandler(options: UpkitHttpOptions): UpkitHttpHandler {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (url.pathname === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      const report = await runHealthChecks(options.health)
      sendJson(res, report.ok ? 200 : 503, report)
      return true
    }
    return false
  }
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
