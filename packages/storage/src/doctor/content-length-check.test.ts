import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startLocalS3 } from '@upkit/local-s3'
import { afterEach, expect, test } from 'vitest'
import { s3Presets } from '../presets'
import { runBucketDoctor } from './run-bucket-doctor'

const credentials = { accessKeyId: 'doctor-key', secretAccessKey: 'doctor-secret-0123456789' }
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/**
 * A provider that does not check the signed Content-Length: a proxy in front of the real local server that takes a
 * PUT longer than its URL signed (answering 200, as such providers do) and forwards everything else untouched.
 */
async function laxProvider(target: string): Promise<string> {
  const upstream = new URL(target)
  const proxy = createServer((req, res) => {
    const url = new URL(req.url ?? '/', target)
    const signedLength = url.searchParams.get('X-Amz-SignedHeaders')?.includes('content-length')
    const sent = Number(req.headers['content-length'] ?? 0)
    if (req.method === 'PUT' && signedLength && sent === 17) {
      req.resume()
      req.on('end', () => res.writeHead(200, { etag: '"lax"' }).end())
      return
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    req.pipe(forward)
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        proxy.close(() => resolve())
        proxy.closeAllConnections()
      }),
  )
  return `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
}

async function localBucket() {
  const dir = await mkdtemp(join(tmpdir(), 'upkit-doctor-length-'))
  const server = await startLocalS3({ dir, ...credentials, buckets: [{ name: 'uploads' }] })
  cleanups.push(async () => {
    await server.close()
    await rm(dir, { recursive: true, force: true })
  })
  return server.endpoint
}

test('a bucket that refuses a body longer than signed passes', async () => {
  const endpoint = await localBucket()
  const report = await runBucketDoctor(s3Presets.local({ endpoint, bucket: 'uploads', credentials }), {
    only: ['content-length'],
  })
  expect(report.checks[0]).toMatchObject({ status: 'ok', fix: '' })
  expect(report.checks[0]?.detail).toContain('a body longer than signed was refused (403)')
})

test('a provider that takes a body longer than signed fails, saying size limits are not enforced', async () => {
  const endpoint = await laxProvider(await localBucket())
  const report = await runBucketDoctor(s3Presets.local({ endpoint, bucket: 'uploads', credentials }), {
    only: ['content-length'],
  })
  expect(report.ok).toBe(false)
  expect(report.checks[0]?.detail).toBe('a presigned PUT signed for 16 bytes accepted 17 (200)')
  expect(report.checks[0]?.fix).toContain('upload size limits are not enforced by the bucket')
})
