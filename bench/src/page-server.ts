import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { type CreatedUpload, planTransfer, type SignedRequest, type UploadRecord } from '@upkit/core'
import type { BucketStorage } from '@upkit/storage'
import { build } from 'esbuild'

const PRESIGN_SECONDS = 3600

/** A multipart upload created and fully presigned by the bench process, for the page's plain multipart run. */
export interface PlainMultipartPlan {
  readonly partSize: number
  /** In part-number order: part `partNumber` is bytes [start, end) of the file. */
  readonly parts: {
    partNumber: number
    start: number
    end: number
    url: string
    headers: Record<string, string>
  }[]
  readonly complete: { url: string; headers: Record<string, string> }
}

export interface PageServer {
  /** Origin of the page; the bucket's CORS rules must allow it. */
  readonly origin: string
  /** Keys of the objects the page uploaded, to delete between runs. */
  readonly keys: string[]
  close(): Promise<void>
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>
}

/** Bundles the single-PUT page for the browser once (esbuild, from TS source like the rest of the repo). */
async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [join(import.meta.dirname, 'page/single-put-page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    minify: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'error',
  })
  const output = result.outputFiles[0]
  if (!output) throw new Error('esbuild produced no output')
  return output.text
}

/**
 * A page on its own origin plus the smallest api the uploader needs: `create` always answers a single-PUT plan
 * (the demo's server would plan multipart above 32 MiB) with that PUT presigned with the exact length, as upkit's
 * server does; `sign` presigns it again when asked.
 */
export async function startPageServer(storage: BucketStorage): Promise<PageServer> {
  const script = await bundlePage()
  const html =
    '<!doctype html><meta charset="utf-8"><title>upkit bench</title>' +
    '<input id="file" type="file" aria-label="File"><script type="module" src="/page.js"></script>'
  const keys: string[] = []
  const sizes = new Map<string, { size: number; mimeType: string }>()
  let counter = 0
  const newKey = (kind = 'single') => {
    const key = `bench/browser-${kind}-${++counter}.bin`
    keys.push(key)
    return key
  }
  const presign = async (key: string, size: number, mimeType: string): Promise<SignedRequest> => {
    const signed = await storage.presignPut({
      key,
      contentType: mimeType,
      contentLength: size,
      expiresInSeconds: PRESIGN_SECONDS,
    })
    return { ...signed, key }
  }
  const record = (id: string, fileName: string, size: number, mimeType: string): UploadRecord => ({
    id,
    route: 'bench',
    status: 'pending',
    fileName,
    mimeType,
    size,
    createdAt: new Date().toISOString(),
    confirmedAt: null,
    thumbnailUrl: null,
    uploadedBy: null,
  })

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    }
    if (req.method === 'GET' && req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(html)
    } else if (req.method === 'GET' && req.url === '/page.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(script)
    } else if (req.method === 'POST' && req.url === '/create') {
      const input = await readJson(req)
      const size = Number(input.size)
      const mimeType = String(input.mimeType)
      const key = newKey()
      sizes.set(key, { size, mimeType })
      const created: CreatedUpload = {
        upload: record(key, String(input.fileName), size, mimeType),
        key,
        transfer: { type: 'single', size },
        expiresAt: new Date(Date.now() + PRESIGN_SECONDS * 1000).toISOString(),
        // As upkit's server does: the PUT is signed with the answer, so the uploader needs no `sign` call.
        s3UploadId: null,
        signedPut: await presign(key, size, mimeType),
        signedParts: [],
      }
      json(created)
    } else if (req.method === 'POST' && req.url === '/sign') {
      const input = await readJson(req)
      const key = String(input.uploadId)
      const file = sizes.get(key)
      if (!file) throw new Error(`unknown upload ${key}`)
      json(await presign(key, file.size, file.mimeType))
    } else if (req.method === 'POST' && req.url === '/sign-put') {
      const input = await readJson(req)
      json(await presign(newKey(), Number(input.size), String(input.mimeType)))
    } else if (req.method === 'POST' && req.url === '/plain-multipart') {
      // Everything before the first byte is done here, outside the page's timer: what is left to time is the
      // browser sending Blob slices and the Complete.
      const input = await readJson(req)
      const size = Number(input.size)
      const plan = planTransfer(size)
      if (plan.type !== 'multipart') throw new Error(`${size} bytes is a single PUT, not multipart`)
      const key = newKey('multipart')
      const { uploadId } = await storage.createMultipartUpload({ key, contentType: String(input.mimeType) })
      const parts = await Promise.all(
        Array.from({ length: plan.partCount }, async (_, index) => {
          const start = index * plan.partSize
          const end = Math.min(start + plan.partSize, size)
          const signed = await storage.presignUploadPart({
            key,
            uploadId,
            partNumber: index + 1,
            contentLength: end - start,
            expiresInSeconds: PRESIGN_SECONDS,
          })
          return { partNumber: index + 1, start, end, url: signed.url, headers: signed.headers }
        }),
      )
      const complete = await storage.presignCompleteMultipartUpload({
        key,
        uploadId,
        expiresInSeconds: PRESIGN_SECONDS,
      })
      const answer: PlainMultipartPlan = {
        partSize: plan.partSize,
        parts,
        complete: { url: complete.url, headers: complete.headers },
      }
      json(answer)
    } else if (req.method === 'POST' && req.url === '/confirm') {
      const input = await readJson(req)
      const key = String(input.uploadId)
      const head = await storage.head(key)
      const file = sizes.get(key)
      if (!head || !file || head.size !== file.size) throw new Error(`${key} is not in the bucket in full`)
      json({ ...record(key, key, file.size, file.mimeType), status: 'confirmed' })
    } else {
      res.writeHead(404).end()
    }
  }
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
      res.end(String(error))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    keys,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
