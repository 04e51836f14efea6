import { randomInt } from 'node:crypto'
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import {
  type BucketRequestType,
  describeRequest,
  FAULT_KINDS,
  type FaultCounts,
  type FaultKind,
  FaultPlan,
  type FaultRate,
  type FaultScript,
  formatFaultCounts,
  type ProxiedRequest,
} from './fault-proxy-plan'

export type { BucketRequestType, FaultCounts, FaultKind, FaultRate, FaultScript, ProxiedRequest }
export { FAULT_KINDS, formatFaultCounts }

export interface FaultProxyOptions {
  /** The bucket endpoint requests are forwarded to, e.g. `http://127.0.0.1:9000` (plain HTTP). */
  readonly target: string
  /**
   * Share of requests that get a fault, 0 to 1; or a function of the request, for operations too rare for the
   * common rate to reach (a handful of CompleteMultipartUploads among hundreds of parts). Preflights never do.
   */
  readonly rate: number | FaultRate
  /** Faults placed on purpose before the rate's draws: see `FaultScript`. */
  readonly script?: FaultScript
  /** Which faults to inject. Default: all of `FAULT_KINDS`. */
  readonly kinds?: readonly FaultKind[]
  /** Seed of the fault draws. Default: a random one, printed at start so a failing run can be repeated. */
  readonly seed?: number
  /** Default 0: a free port. Fixed when the bucket's address must be known before the proxy starts. */
  readonly port?: number
  /** Where the start line (endpoint, target, seed) goes. Default `console.log`. */
  readonly log?: (line: string) => void
}

export interface FaultProxy {
  /** The proxy's address: sign URLs for this one (the Host header reaches the bucket unchanged). */
  readonly endpoint: string
  readonly port: number
  readonly seed: number
  counts(): FaultCounts
  /** The counts as text for a test's output. */
  report(): string
  /** Changes the rate from now on: 0 to let the set-up or the checks of a test through untouched. */
  setRate(rate: number | FaultRate): void
  /** Stops listening and drops every connection, hanging ones included. */
  close(): Promise<void>
}

/** Headers that describe one connection, not the message: never passed from one side to the other. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
])

/**
 * An HTTP proxy in front of a bucket that fails a share of the requests the way real buckets do (see
 * `FaultKind`), with a seeded draw so a run's mix of faults can be repeated. Requests are forwarded with their
 * Host header unchanged: SigV4 signs it, so clients sign for the proxy's address and the bucket must accept it
 * (local-s3 checks the signature against whatever Host arrives).
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target)
  if (target.protocol !== 'http:') {
    throw new TypeError(`The fault proxy forwards plain HTTP only, got target ${options.target}.`)
  }
  const seed = options.seed ?? randomInt(0, 2 ** 31)
  const plan = new FaultPlan({
    seed,
    kinds: options.kinds ?? FAULT_KINDS,
    rate: options.rate,
    script: options.script,
  })
  // Kept-alive upstream connections, as a client library would hold them: no new TCP handshake per part.
  const agent = new Agent({ keepAlive: true })
  const sockets = new Set<Socket>()

  const forward = (req: IncomingMessage, res: ServerResponse): Promise<UpstreamAnswer> =>
    new Promise((resolve, reject) => {
      const upstream = httpRequest({
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: withoutHopByHop(req.headers),
        agent,
      })
      upstream.once('error', reject)
      upstream.once('response', (answer) => resolve({ answer, upstream }))
      // The client gave up (its timeout, its abort): the bucket need not finish for nobody.
      res.once('close', () => {
        if (!res.writableFinished) upstream.destroy()
      })
      req.pipe(upstream)
    })

  const passThrough = async (req: IncomingMessage, res: ServerResponse) => {
    const { answer } = await forward(req, res)
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, rawWithoutHopByHop(answer.rawHeaders))
    answer.pipe(res)
  }

  const inject = async (kind: FaultKind, req: IncomingMessage, res: ServerResponse) => {
    switch (kind) {
      case 'slowDown':
        // The body is read first so the client hears the 503 rather than a reset of a body it is still sending.
        await drain(req)
        answerS3Error(req, res, 503, 'SlowDown', 'Please reduce your request rate.')
        return
      case 'hang':
        // Read and then nothing: the connection stays open until the client's own timeout gives up on it.
        req.resume()
        return
      case 'completeThen500': {
        const { answer } = await forward(req, res)
        await drain(answer)
        answerS3Error(req, res, 500, 'InternalError', 'We encountered an internal error. Please try again.')
        return
      }
      case 'resetMidBody':
        await resetMidBody(req, res)
        return
    }
  }

  const resetMidBody = async (req: IncomingMessage, res: ServerResponse) => {
    const length = Number(req.headers['content-length'] ?? 0)
    if (length > 1 && plan.random() < 0.5) {
      // Cut the request: the bucket gets a body that stops short, the client a reset connection.
      const cutAt = 1 + Math.floor(plan.random() * (length - 1))
      const upstream = httpRequest({
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: withoutHopByHop(req.headers),
        // Its own connection: a half-sent request must not leave a kept-alive socket to the next one.
        agent: false,
      })
      upstream.on('error', () => {})
      let sent = 0
      await new Promise<void>((resolve) => {
        req.on('data', (chunk: Buffer) => {
          if (sent >= cutAt) return
          const take = chunk.subarray(0, cutAt - sent)
          sent += take.length
          upstream.write(take)
          if (sent >= cutAt) resolve()
        })
        req.once('end', () => resolve())
        req.once('close', () => resolve())
      })
      upstream.destroy()
      req.socket.destroy()
      return
    }
    // Cut the answer: the bucket did the work, the client never learns it.
    const { answer } = await forward(req, res)
    const body = await drain(answer)
    if (body.length > 1) {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, rawWithoutHopByHop(answer.rawHeaders))
      res.write(body.subarray(0, Math.floor(body.length / 2)))
      // Written to the socket before it goes, so the client sees a truncated answer rather than none.
      await new Promise<void>((resolve) => res.socket?.write('', () => resolve()) ?? resolve())
    }
    req.socket.destroy()
  }

  const server = createServer((req, res) => {
    const request = describeRequest(req)
    const kind = plan.decide(request)
    const handled = kind === null ? passThrough(req, res) : inject(kind, req, res)
    handled.catch(() => {
      // The bucket itself failed (down, reset): the client sees what a dead bucket looks like.
      if (!res.headersSent) answerS3Error(req, res, 502, 'BadGateway', 'The bucket behind the proxy failed.')
      else res.destroy()
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  const endpoint = `http://127.0.0.1:${port}`
  ;(options.log ?? console.log)(
    `fault proxy ${endpoint} -> ${target.origin}, seed ${seed} (UPKIT_FAULT_SEED=${seed} repeats its draws)`,
  )
  return {
    endpoint,
    port,
    seed,
    counts: () => plan.counts(),
    report: () => formatFaultCounts(seed, plan.counts()),
    setRate: (rate) => plan.setRate(rate),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const socket of sockets) socket.destroy()
      agent.destroy()
      await closed
    },
  }
}

interface UpstreamAnswer {
  readonly answer: IncomingMessage
  readonly upstream: ReturnType<typeof httpRequest>
}

function withoutHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const kept: IncomingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name)) kept[name] = value
  return kept
}

function rawWithoutHopByHop(raw: readonly string[]): string[] {
  const kept: string[] = []
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string
    if (!HOP_BY_HOP.has(name.toLowerCase())) kept.push(name, raw[i + 1] as string)
  }
  return kept
}

function drain(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.once('end', () => resolve(Buffer.concat(chunks)))
    stream.once('error', reject)
  })
}

/**
 * An S3 error as a bucket sends it, with the CORS headers a bucket adds for an allowed origin: without them the
 * browser hides the status and the uploader sees a network error instead of the 503 or 500 under test.
 */
function answerS3Error(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault-proxy</RequestId></Error>`
  const origin = req.headers.origin
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    ...(status === 503 ? { 'retry-after': '1' } : {}),
    ...(origin === undefined
      ? {}
      : { 'access-control-allow-origin': origin, 'access-control-expose-headers': 'ETag', vary: 'Origin' }),
  })
  res.end(req.method === 'HEAD' ? undefined : body)
}
