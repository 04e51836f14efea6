import { createHash, createHmac } from 'node:crypto'
import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
} from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type { S3Credentials } from './s3-bucket-storage'

/**
 * PutObject and UploadPart as one SigV4-signed HTTP request each, without the AWS SDK's middleware stack: for a
 * tool that copies thousands of small files (`upkit migrate`), the SDK's per-request work (endpoint rules,
 * retry bookkeeping, serialisers, signer plumbing) cost more CPU than reading, hashing and sending the file, and
 * that CPU is what such a copy runs out of. Only for path-style endpoints (R2, MinIO, local-s3), whose URL is
 * plain `<endpoint>/<bucket>/<key>`; AWS's virtual-hosted addressing stays with the SDK.
 */
export interface DirectUploader {
  put(input: {
    key: string
    body: Uint8Array | Readable
    contentLength: number
    contentType: string
    /** UploadPart when given. */
    part?: { uploadId: string; partNumber: number }
  }): Promise<{ etag: string | undefined }>
}

/** Attempts for a replayable (in-memory) body on a network error, 500, 503 or throttling, like the SDK's 3. */
const ATTEMPTS = 3

export function createDirectUploader(options: {
  endpoint: string
  bucket: string
  region: string
  credentials: S3Credentials
}): DirectUploader {
  const base = new URL(options.endpoint)
  const https = base.protocol === 'https:'
  // The SDK's default Node agent settings: keep-alive, up to 50 sockets per host.
  const agent = https
    ? new HttpsAgent({ keepAlive: true, maxSockets: 50 })
    : new HttpAgent({ keepAlive: true, maxSockets: 50 })
  const send = https ? httpsRequest : httpRequest
  const basePath = base.pathname.replace(/\/+$/, '')
  const { accessKeyId, secretAccessKey, sessionToken } = options.credentials
  const keys = new Map<string, Buffer>()
  const signingKey = (date: string) => {
    let key = keys.get(date)
    if (key === undefined) {
      key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), options.region), 's3'), 'aws4_request')
      keys.clear()
      keys.set(date, key)
    }
    return key
  }

  async function attempt(input: Parameters<DirectUploader['put']>[0]): Promise<{ etag: string | undefined }> {
    const path = `${basePath}/${encodeSegment(options.bucket)}/${input.key.split('/').map(encodeSegment).join('/')}`
    const query = input.part
      ? `partNumber=${input.part.partNumber}&uploadId=${encodeSegment(input.part.uploadId)}`
      : ''
    const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '')
    const date = amzDate.slice(0, 8)
    const headers: Record<string, string> = {
      'content-length': String(input.contentLength),
      ...(input.part ? {} : { 'content-type': input.contentType }),
      host: base.host,
      // The ETag in the answer (the bucket's MD5 of what it stored) is how callers verify the bytes.
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      'x-amz-date': amzDate,
      ...(sessionToken === undefined ? {} : { 'x-amz-security-token': sessionToken }),
    }
    const names = Object.keys(headers).sort()
    const canonical = [
      'PUT',
      path,
      query,
      ...names.map((name) => `${name}:${(headers[name] as string).trim()}`),
      '',
      names.join(';'),
      'UNSIGNED-PAYLOAD',
    ].join('\n')
    const scope = `${date}/${options.region}/s3/aws4_request`
    const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`
    const signature = createHmac('sha256', signingKey(date)).update(stringToSign).digest('hex')
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`

    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request: ClientRequest = send(
        {
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port,
          method: 'PUT',
          path: query === '' ? path : `${path}?${query}`,
          headers,
          agent,
        },
        resolve,
      )
      request.once('error', reject)
      if (input.body instanceof Readable) {
        input.body.once('error', (error) => request.destroy(error))
        input.body.pipe(request)
      } else request.end(input.body)
    })
    const chunks: Buffer[] = []
    for await (const chunk of response) chunks.push(chunk as Buffer)
    const status = response.statusCode ?? 0
    if (status === 200) {
      const etag = response.headers.etag
      return { etag: Array.isArray(etag) ? etag[0] : etag }
    }
    const text = Buffer.concat(chunks).toString('utf8')
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `HTTP ${status}`
    const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? ''
    throw Object.assign(
      new Error(`${input.part ? 'UploadPart' : 'PutObject'} ${input.key}: ${code} ${message}`.trim()),
      { name: code, $metadata: { httpStatusCode: status } },
    )
  }

  return {
    async put(input) {
      for (let tries = 1; ; tries++) {
        try {
          return await attempt(input)
        } catch (error) {
          if (tries >= ATTEMPTS || input.body instanceof Readable || !retryable(error)) throw error
          await sleep(100 * 2 ** tries)
        }
      }
    },
  }
}

function retryable(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
  if (status === undefined) return true // a network error: the request may never have arrived
  return status === 500 || status === 503 || (error as Error).name === 'SlowDown'
}

const hmac = (key: string | Buffer, text: string) => createHmac('sha256', key).update(text).digest()
const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex')

/** RFC 3986 encoding, as SigV4 and the SDK use for each path segment. */
const encodeSegment = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
