import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type LocalS3Options, startLocalS3 } from '@upkit/local-s3'
import { browserUploadCors, bucketDoctorHealthCheck, createS3BucketStorage, s3Presets } from '@upkit/storage'
import { afterEach, describe, expect, it } from 'vitest'
import { createHttpHandler, isLocalProbe } from './http'

const ORIGIN = 'https://tasks.example.com'
const credentials = { accessKeyId: 'health-doctor-key', secretAccessKey: 'health-doctor-secret-0123456789' }
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** upkit's HTTP routes in front of a real local S3 bucket, with the doctor registered as an operator-only check. */
async function start(options: Partial<LocalS3Options> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'upkit-health-doctor-'))
  const s3 = await startLocalS3({
    dir,
    ...credentials,
    buckets: [
      {
        name: 'uploads',
        cors: browserUploadCors([ORIGIN]),
        lifecycle: [{ abortIncompleteMultipartUploadDays: 1 }],
      },
    ],
    ...options,
  })
  const config = s3Presets.local({ endpoint: s3.endpoint, bucket: 'uploads', credentials })
  const storage = createS3BucketStorage(config)
  const handler = createHttpHandler({
    // The health routes never reach the upload services.
    uploads: undefined as never,
    inline: undefined as never,
    paths: { files: '/files/', inline: '/inline/' },
    context: undefined,
    healthPath: '/healthz',
    health: {
      bucket: { describe: storage.describe, ping: () => storage.checkBucket() },
      bucketDoctor: bucketDoctorHealthCheck(config, { origin: ORIGIN }),
    },
    healthDetails: isLocalProbe,
    originGuard: undefined,
  })
  const server = createServer((req, res) => {
    void handler(req, res).then((handled) => {
      if (!handled) res.writeHead(418).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  cleanups.push(async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
    await s3.close()
    await rm(dir, { recursive: true, force: true })
  })
  const get = (path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path, headers: { host: '127.0.0.1', ...headers } },
        (res) => {
          let body = ''
          res.on('data', (chunk: Buffer) => (body += chunk.toString()))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        },
      )
      req.on('error', reject)
      req.end()
    })
  return { get }
}

interface Diagnosis {
  ok: boolean
  at: string
  checks: { bucketDoctor: { ok: boolean; checks: { id: string; status: string; fix: string }[] } }
}

describe('GET /healthz?doctor', () => {
  it('gives a local probe the doctor report, reused for a minute; the plain report does not run or list it', async () => {
    const { get } = await start()
    const plain = await get('/healthz')
    expect(JSON.parse(plain.body)).toEqual({
      ok: true,
      checks: {
        bucket: { ok: true, uses: expect.stringMatching(/^s3 http:\/\/127\.0\.0\.1:\d+\/uploads$/) },
      },
    })

    const first = await get('/healthz?doctor')
    expect(first.status).toBe(200)
    const diagnosis = JSON.parse(first.body) as Diagnosis
    expect(diagnosis.ok).toBe(true)
    expect(diagnosis.checks.bucketDoctor.checks.map((check) => `${check.id}:${check.status}`)).toEqual([
      'credentials:ok',
      'clock:ok',
      'cors:ok',
      'content-length:ok',
      'multipart:ok',
      'conditional-write:ok',
      'batch-delete:ok',
      'lifecycle:ok',
    ])
    const again = JSON.parse((await get('/healthz?doctor')).body) as Diagnosis
    expect(again.at).toBe(diagnosis.at)
  })

  it('anyone else asking for it gets the public up/down report, nothing of the doctor', async () => {
    const { get } = await start()
    for (const headers of [
      { 'x-forwarded-for': '203.0.113.9' },
      { host: 'tasks.example.com' },
      { origin: ORIGIN },
    ]) {
      const answer = await get('/healthz?doctor', headers)
      expect(answer.status).toBe(200)
      expect(JSON.parse(answer.body)).toEqual({ ok: true, checks: { bucket: { ok: true } } })
    }
  })

  it('a misconfigured bucket answers 503 with each problem and its fix', async () => {
    const { get } = await start({ buckets: [{ name: 'uploads' }] })
    const answer = await get('/healthz?doctor')
    expect(answer.status).toBe(503)
    const checks = (JSON.parse(answer.body) as Diagnosis).checks.bucketDoctor.checks
    expect(checks.find((check) => check.id === 'cors')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining(`AllowedOrigins [${ORIGIN}]`),
    })
    expect(checks.find((check) => check.id === 'lifecycle')?.status).toBe('warn')
    // The bucket itself answers: the load balancer's view stays healthy.
    expect((await get('/healthz', { 'x-forwarded-for': '203.0.113.9' })).status).toBe(200)
  })
})
