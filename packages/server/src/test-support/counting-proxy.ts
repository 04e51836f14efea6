import { Agent, createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'

/** S3 calls by kind, as the bucket received them. */
export interface S3CallCounts {
  /** ListObjectsV2 pages. */
  list: number
  head: number
  /** Object GETs (ranged reads included). */
  get: number
  listMultipartUploads: number
  /** DeleteObjects batches and single deletes. */
  delete: number
  other: number
}

export interface CountingProxy {
  /** Point the storage client here instead of at the bucket's endpoint. */
  readonly endpoint: string
  readonly counts: S3CallCounts
  reset(): void
  close(): Promise<void>
}

const zero = (): S3CallCounts => ({ list: 0, head: 0, get: 0, listMultipartUploads: 0, delete: 0, other: 0 })

function kindOf(method: string, url: URL): keyof S3CallCounts {
  const path = url.pathname.split('/').filter(Boolean)
  const onBucket = path.length <= 1
  if (method === 'GET' && onBucket && url.searchParams.has('uploads')) return 'listMultipartUploads'
  if (method === 'GET' && onBucket) return 'list'
  if (method === 'HEAD' && !onBucket) return 'head'
  if (method === 'GET') return 'get'
  if (method === 'DELETE' || (method === 'POST' && url.searchParams.has('delete'))) return 'delete'
  return 'other'
}

/**
 * A pass-through HTTP proxy in front of a real S3 endpoint that counts the calls it forwards, so a test or bench
 * can state how many LIST and HEAD requests a sweep made without replacing anything of S3's behaviour. The Host
 * header is forwarded as the client signed it (SigV4 covers it), so path-style requests verify unchanged.
 */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target)
  const agent = new Agent({ keepAlive: true, maxSockets: 64 })
  let counts = zero()
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy')
    counts[kindOf(req.method ?? 'GET', url)]++
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    forward.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502)
      res.end(String(error))
    })
    req.pipe(forward)
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get counts() {
      return counts
    },
    reset() {
      counts = zero()
    },
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      agent.destroy()
    },
  }
}
