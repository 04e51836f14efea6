import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import type { ObjectHead } from './bucket-storage'
import type { QueryPresignInput } from './presign'

/**
 * `readStart`: the object's head and first bytes from one ranged GET. A 206 answer carries everything a HEAD does
 * (ETag, Content-Type, Content-Encoding, Cache-Control, Last-Modified) and the total size in Content-Range, which
 * every S3-compatible store sends, so confirming an upload costs one bucket round trip instead of a HEAD and a GET.
 * Sent through a presigned GET on a keep-alive agent rather than the SDK, whose per-request work cost more CPU than
 * the request itself.
 */
export function createStartReader(options: {
  presign: (input: QueryPresignInput) => Promise<string>
  /** For the rare answers a GET cannot settle (416 on an empty object). */
  head: (key: string) => Promise<ObjectHead | null>
  /**
   * How long the GET may go without a byte moving before it is abandoned (and sent again, like a reset). Default
   * 10 s: the answer is a few KiB a bucket sends in milliseconds, and a confirm waits on it; without a limit a
   * request the bucket (or a load balancer) silently dropped would hold the confirm forever.
   */
  idleTimeoutMs?: number
}) {
  const idleTimeoutMs = options.idleTimeoutMs ?? 10_000
  // The SDK's default Node agent settings: keep-alive, up to 50 sockets per host.
  const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 50 })
  const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 50 })

  return async function readStart(
    key: string,
    length: number,
  ): Promise<{ head: ObjectHead; bytes: Uint8Array } | null> {
    if (!Number.isSafeInteger(length) || length < 1) throw new RangeError('length must be a positive integer')
    const url = new URL(
      await options.presign({ method: 'GET', key, query: { 'x-id': 'GetObject' }, expiresInSeconds: 60 }),
    )
    const https = url.protocol === 'https:'
    const send = () =>
      new Promise<IncomingMessage>((resolve, reject) => {
        const request = (https ? httpsRequest : httpRequest)(
          url,
          {
            method: 'GET',
            // Range is not signed: a presigned GET accepts any unsigned header.
            headers: { range: `bytes=0-${length - 1}` },
            agent: https ? httpsAgent : httpAgent,
          },
          resolve,
        )
        request.once('error', (error) => reject(Object.assign(error, { reusedSocket: request.reusedSocket })))
        // Also while the body is read: a silent socket then fails the read (the confirm is retried as a whole).
        request.setTimeout(idleTimeoutMs, () => {
          const error = new Error(`GetObject ${key}: no answer from the bucket for ${idleTimeoutMs} ms`)
          request.destroy(Object.assign(error, { code: 'ETIMEDOUT' }))
        })
        request.end()
      })
    const response = await sendWithRetry(send)
    const status = response.statusCode ?? 0
    const chunks: Buffer[] = []
    let received = 0
    // A store that ignores Range answers 200 with the whole object: stop reading once the first bytes are in.
    for await (const chunk of response) {
      chunks.push(chunk as Buffer)
      received += (chunk as Buffer).length
      if (status === 200 && received >= length) {
        response.destroy()
        break
      }
    }
    const body = Buffer.concat(chunks)
    if (status === 404) return null
    // 416: the object is shorter than the range's start, i.e. empty. Rare; the HEAD says what the GET could not.
    if (status === 416) {
      const head = await options.head(key)
      return head && { head, bytes: new Uint8Array() }
    }
    if (status !== 200 && status !== 206) {
      const text = body.toString('utf8')
      const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `HTTP ${status}`
      const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? ''
      throw Object.assign(new Error(`GetObject ${key}: ${code} ${message}`.trim()), {
        name: code,
        $metadata: { httpStatusCode: status },
      })
    }
    const header = (name: string) => {
      const value = response.headers[name]
      return Array.isArray(value) ? value[0] : value
    }
    const total = /\/(\d+)\s*$/.exec(header('content-range') ?? '')?.[1]
    const size = status === 206 ? Number(total) : Number(header('content-length'))
    if (!Number.isSafeInteger(size)) {
      throw new Error(
        `GetObject ${key}: no object size in the answer (Content-Range ${header('content-range')})`,
      )
    }
    const lastModified = header('last-modified')
    return {
      head: {
        size,
        contentType: header('content-type'),
        etag: header('etag'),
        lastModified: lastModified === undefined ? undefined : new Date(lastModified),
        cacheControl: header('cache-control'),
        contentEncoding: header('content-encoding'),
      },
      bytes: new Uint8Array(body.subarray(0, length)),
    }
  }
}

/** Network failures worth sending an idempotent GET again for (the SDK retries these too). */
const TRANSIENT = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'EAI_AGAIN'])
const ATTEMPTS = 3

/**
 * A keep-alive socket the store closed while idle (its keep-alive timeout) fails the next request sent on it with
 * ECONNRESET before a byte is answered; Node's documentation says to retry such a request, and the SDK this path
 * replaced retried network errors three times. A GET is idempotent, so retrying changes nothing but the outcome.
 */
async function sendWithRetry(send: () => Promise<IncomingMessage>): Promise<IncomingMessage> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send()
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? ''
      if (attempt >= ATTEMPTS || !TRANSIENT.has(code)) throw error
      // A reused socket's reset is not the store being down: send again at once. Otherwise back off a little.
      if (!(error as { reusedSocket?: boolean }).reusedSocket)
        await new Promise((r) => setTimeout(r, 50 * attempt))
    }
  }
}
