import { execFile } from 'node:child_process'
import { open } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { promisify } from 'node:util'
import { planTransfer } from '@upkit/core'
import type { BucketStorage, PresignedRequest } from '@upkit/storage'

const PRESIGN_SECONDS = 3600

interface Sent {
  readonly status: number
  readonly etag: string | null
  readonly text: string
}

/**
 * A part read whole into memory, as SDK clients send parts: on this 2-core box a streamed body (fs stream piped
 * into the request, even in 1 MiB chunks) cost the client about 40% more CPU, which the server then lacked.
 */
async function readRange(path: string, start: number, end: number): Promise<Buffer> {
  const file = await open(path)
  try {
    const bytes = Buffer.allocUnsafe(end - start)
    const { bytesRead } = await file.read(bytes, 0, bytes.length, start)
    if (bytesRead !== bytes.length) throw new Error(`short read of ${path} at ${start}`)
    return bytes
  } finally {
    await file.close()
  }
}

/** One presigned request with node:http; `body` is a file range or a string. */
function send(
  agent: Agent,
  signed: PresignedRequest,
  body: { path: string; start: number; end: number } | string | null,
): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const length =
      body === null ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.end - body.start
    const req = request(signed.url, {
      method: signed.method,
      agent,
      headers: { ...signed.headers, 'content-length': String(length) },
    })
    req.on('error', reject)
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', reject)
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        if (!res.statusCode || res.statusCode >= 300) {
          reject(new Error(`${signed.method} ${new URL(signed.url).pathname} -> ${res.statusCode}: ${text}`))
          return
        }
        const etag = res.headers.etag
        resolve({ status: res.statusCode, etag: typeof etag === 'string' ? etag : null, text })
      })
    })
    if (body === null || typeof body === 'string') req.end(body ?? undefined)
    else readRange(body.path, body.start, body.end).then((bytes) => req.end(bytes), reject)
  })
}

export interface PlainMultipartResult {
  readonly seconds: number
  /** The Complete request alone: the server assembling the object. */
  readonly completeSeconds: number
  readonly partSize: number
  readonly partCount: number
}

/**
 * What a competent non-browser client does with the same plan the server gives browsers: CreateMultipartUpload,
 * the parts `concurrency` at a time straight from disk, then Complete, each through a presigned URL.
 */
export async function plainMultipartUpload(options: {
  storage: BucketStorage
  key: string
  path: string
  size: number
  contentType: string
  concurrency: number
}): Promise<PlainMultipartResult> {
  const plan = planTransfer(options.size)
  if (plan.type !== 'multipart') throw new Error(`${options.size} bytes is a single PUT, not multipart`)
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency })
  const { key, storage } = options
  const started = performance.now()
  try {
    const created = await send(
      agent,
      await storage.presignCreateMultipartUpload({
        key,
        contentType: options.contentType,
        expiresInSeconds: PRESIGN_SECONDS,
      }),
      null,
    )
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.text)?.[1]
    if (!uploadId) throw new Error(`no UploadId in ${created.text}`)
    const etags = new Map<number, string>()
    let next = 1
    const worker = async () => {
      while (next <= plan.partCount) {
        const partNumber = next++
        const start = (partNumber - 1) * plan.partSize
        const end = Math.min(start + plan.partSize, plan.size)
        const signed = await storage.presignUploadPart({
          key,
          uploadId,
          partNumber,
          contentLength: end - start,
          expiresInSeconds: PRESIGN_SECONDS,
        })
        const sent = await send(agent, signed, { path: options.path, start, end })
        if (!sent.etag) throw new Error(`no ETag for part ${partNumber}`)
        etags.set(partNumber, sent.etag)
      }
    }
    await Promise.all(Array.from({ length: options.concurrency }, worker))
    const xml = `<CompleteMultipartUpload>${[...etags]
      .sort(([a], [b]) => a - b)
      .map(([n, etag]) => `<Part><PartNumber>${n}</PartNumber><ETag>${etag}</ETag></Part>`)
      .join('')}</CompleteMultipartUpload>`
    const completeStarted = performance.now()
    const completed = await send(
      agent,
      await storage.presignCompleteMultipartUpload({ key, uploadId, expiresInSeconds: PRESIGN_SECONDS }),
      xml,
    )
    if (completed.text.includes('<Error>')) throw new Error(`Complete failed: ${completed.text}`)
    return {
      seconds: (performance.now() - started) / 1000,
      completeSeconds: (performance.now() - completeStarted) / 1000,
      partSize: plan.partSize,
      partCount: plan.partCount,
    }
  } finally {
    agent.destroy()
  }
}

/**
 * `curl -T` with a presigned PUT: the reference for one request from outside any browser. `Expect:` is left as
 * curl sends it (the server answers 100 Continue at once), so this is curl as people run it.
 */
export async function curlPut(options: {
  storage: BucketStorage
  key: string
  path: string
  size: number
  contentType: string
}): Promise<number> {
  const signed = await options.storage.presignPut({
    key: options.key,
    contentType: options.contentType,
    contentLength: options.size,
    expiresInSeconds: PRESIGN_SECONDS,
  })
  const headers = Object.entries(signed.headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`])
  const started = performance.now()
  const { stdout } = await promisify(execFile)('curl', [
    '--silent',
    '--show-error',
    '--fail',
    '-T',
    options.path,
    ...headers,
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    signed.url,
  ])
  const seconds = (performance.now() - started) / 1000
  if (stdout.trim() !== '200') throw new Error(`curl PUT answered ${stdout}`)
  return seconds
}
