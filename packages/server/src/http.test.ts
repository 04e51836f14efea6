import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { startTestBucket, startTestDatabase, type TestBucket, type TestDatabase } from '@upkit/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WEBP_3X2 } from './test-support/chromium-images'
import { createTestApp, type TestContext } from './test-support/test-app'

const PNG = new Uint8Array([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0, 0x49, 0x48, 0x44, 0x52,
])

let db: TestDatabase
let bucket: TestBucket
let server: Server
let baseUrl: string
let confirmedId: string
let pendingId: string
let withThumbnailId: string
let namedId: string
let app: ReturnType<typeof createTestApp>
let acme: ReturnType<typeof app.tenant>

beforeAll(async () => {
  db = await startTestDatabase()
  bucket = await startTestBucket()
  const users: Record<string, TestContext['user']> = {}
  // The signed-in user comes from a header here; a host app reads its own session.
  app = createTestApp(db, bucket, {
    context: (req) => ({ user: users[String(req.headers['x-test-user'])] ?? null }),
    healthChecks: { queue: { describe: 'test queue', ping: async () => {} } },
    origins: () => ['https://tasks.example.com', baseUrl],
  })
  acme = app.tenant()
  users.ada = acme.user
  users.eve = app.tenant().user
  const ada = app.caller(acme.user)
  const input = {
    route: 'commentImage',
    input: { taskId: acme.taskId },
    fileName: 'pasted.png',
    size: PNG.length,
    mimeType: 'image/png',
  } as const
  const confirmed = await ada.create(input)
  await bucket.storage.putObject({
    key: confirmed.key,
    body: PNG,
    contentType: 'image/png',
    contentLength: PNG.length,
  })
  await ada.confirm({ uploadId: confirmed.upload.id })
  confirmedId = confirmed.upload.id
  pendingId = (await ada.create(input)).upload.id
  const withThumbnail = await ada.create(input)
  await bucket.storage.putObject({
    key: withThumbnail.key,
    body: PNG,
    contentType: 'image/png',
    contentLength: PNG.length,
  })
  await ada.confirm({ uploadId: withThumbnail.upload.id, thumbnail: WEBP_3X2.toString('base64') })
  withThumbnailId = withThumbnail.upload.id
  const named = await ada.create({ ...input, fileName: 'résumé (final).png' })
  await bucket.storage.putObject({
    key: named.key,
    body: PNG,
    contentType: 'image/png',
    contentLength: PNG.length,
  })
  await ada.confirm({ uploadId: named.upload.id })
  namedId = named.upload.id

  server = createServer((req, res) => {
    void app.upkit.http(req, res).then((handled) => {
      if (!handled) res.writeHead(418).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server?.close()
  await bucket?.close()
  await db?.close()
})

const get = (path: string, user?: string) =>
  fetch(`${baseUrl}${path}`, {
    redirect: 'manual',
    headers: user ? { 'x-test-user': user } : {},
  })

/** node:http, because fetch will not send a Host of our choosing. */
const raw = (path: string, headers: Record<string, string>) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${baseUrl}${path}`, { headers }, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString()
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })

describe('GET /files/:id', () => {
  it('redirects a member to a short-lived signed GET that serves the bytes inline', async () => {
    const response = await get(`/files/${confirmedId}`, 'ada')
    expect(response.status).toBe(302)
    expect(response.headers.get('cache-control')).toBe('private, no-store')
    const location = response.headers.get('location') as string
    expect(new URL(location).searchParams.get('X-Amz-Expires')).toBe('60')
    const file = await fetch(location)
    expect(file.status).toBe(200)
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(PNG)
    expect(file.headers.get('content-disposition')).toMatch(/^inline; /)
  })

  it('?download (or ?download=1) redirects to the same bytes as an attachment under the file name', async () => {
    for (const query of ['?download', '?download=1']) {
      const response = await get(`/files/${namedId}${query}`, 'ada')
      expect(response.status).toBe(302)
      expect(response.headers.get('cache-control')).toBe('private, no-store')
      const file = await fetch(response.headers.get('location') as string)
      expect(file.status).toBe(200)
      expect(new Uint8Array(await file.arrayBuffer())).toEqual(PNG)
      expect(file.headers.get('content-disposition')).toBe(
        `attachment; filename="resume (final).png"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%28final%29.png`,
      )
      expect(file.headers.get('content-type')).toBe('image/png')
    }
    const viewed = await fetch(
      (await get(`/files/${namedId}?download=0`, 'ada')).headers.get('location') as string,
    )
    expect(viewed.headers.get('content-disposition')).toMatch(/^inline; /)
    expect((await get(`/files/${namedId}?download`, 'eve')).status).toBe(404)
    expect((await get(`/files/${pendingId}?download`, 'ada')).status).toBe(404)
  })

  it('gives 404 to another company, to anonymous users, for pending, unknown and malformed ids', async () => {
    expect((await get(`/files/${confirmedId}`, 'eve')).status).toBe(404)
    expect((await get(`/files/${confirmedId}`)).status).toBe(404)
    expect((await get(`/files/${pendingId}`, 'ada')).status).toBe(404)
    expect((await get('/files/00000000-0000-4000-8000-000000000000', 'ada')).status).toBe(404)
    expect((await get('/files/../healthz', 'ada')).status).not.toBe(302)
  })
})

describe('GET /files/:id/thumbnail', () => {
  it('serves the stored preview to a member: its type, nosniff, a sandbox, cached privately for a day', async () => {
    const response = await get(`/files/${withThumbnailId}/thumbnail`, 'ada')
    expect(response.status).toBe(200)
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(new Uint8Array(WEBP_3X2))
    expect(response.headers.get('content-type')).toBe('image/webp')
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    expect(response.headers.get('content-security-policy')).toContain('sandbox')
    expect(response.headers.get('cache-control')).toBe('private, max-age=86400, immutable')
    const head = await fetch(`${baseUrl}/files/${withThumbnailId}/thumbnail`, {
      method: 'HEAD',
      headers: { 'x-test-user': 'ada' },
    })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-length')).toBe(String(WEBP_3X2.length))
  })

  it('gives 404 to another company, anonymous users, pending uploads, uploads without one and other subpaths', async () => {
    expect((await get(`/files/${withThumbnailId}/thumbnail`, 'eve')).status).toBe(404)
    expect((await get(`/files/${withThumbnailId}/thumbnail`)).status).toBe(404)
    expect((await get(`/files/${pendingId}/thumbnail`, 'ada')).status).toBe(404)
    expect((await get(`/files/${confirmedId}/thumbnail`, 'ada')).status).toBe(404)
    expect((await get('/files/00000000-0000-4000-8000-000000000000/thumbnail', 'ada')).status).toBe(404)
    expect((await get(`/files/${withThumbnailId}/other`, 'ada')).status).toBe(404)
    expect((await get(`/files/${withThumbnailId}/thumbnail/x`, 'ada')).status).toBe(404)
  })

  it('gives 404 once the route no longer admits the person (the task moved to another company)', async () => {
    expect((await get(`/files/${withThumbnailId}/thumbnail`, 'ada')).status).toBe(200)
    app.tasks.set(acme.taskId, 'another-company')
    try {
      expect((await get(`/files/${withThumbnailId}/thumbnail`, 'ada')).status).toBe(404)
      expect((await get(`/files/${withThumbnailId}`, 'ada')).status).toBe(404)
    } finally {
      app.tasks.set(acme.taskId, acme.companyId)
    }
  })
})

describe('GET /healthz', () => {
  it('answers 200 with what each check uses to a probe from this machine: the store, the bucket, the host’s own', async () => {
    const response = await fetch(`${baseUrl}/healthz`)
    expect(response.status).toBe(200)
    const report = (await response.json()) as {
      ok: boolean
      checks: Record<string, { ok: boolean; uses: string }>
    }
    expect(report.ok).toBe(true)
    expect(Object.keys(report.checks).sort()).toEqual(['bucket', 'database', 'queue'])
    expect(report.checks.bucket?.uses).toBe(`s3 ${bucket.endpoint}/${bucket.bucket}`)
    expect(report.checks.queue).toEqual({ ok: true, uses: 'test queue' })
  })

  it('tells anyone else up or down per check only: no database path, no internal bucket address', async () => {
    const publicBody = {
      ok: true,
      checks: { database: { ok: true }, bucket: { ok: true }, queue: { ok: true } },
    }
    for (const headers of [
      { host: 'tasks.example.com' },
      { host: '127.0.0.1', 'x-forwarded-for': '203.0.113.9' },
      { host: '127.0.0.1', 'sec-fetch-site': 'cross-site' },
      { host: 'rebound.evil.test' },
    ]) {
      const response = await raw('/healthz', headers)
      expect(response.status).toBe(200)
      expect(JSON.parse(response.body)).toEqual(publicBody)
    }
  })
})

describe('origins', () => {
  it('refuses files and inline images to a request naming another host (DNS rebinding)', async () => {
    const rebound = await raw(`/files/${confirmedId}`, { host: 'rebound.evil.test', 'x-test-user': 'ada' })
    expect(rebound.status).toBe(403)
    expect((await raw('/inline/companyLogo/x/y', { host: 'rebound.evil.test' })).status).toBe(403)
    expect(
      (await raw(`/files/${confirmedId}`, { host: 'tasks.example.com', 'x-test-user': 'ada' })).status,
    ).toBe(302)
  })
})

describe('routing', () => {
  it('leaves other paths and methods to the host', async () => {
    expect((await get('/trpc/anything')).status).toBe(418)
    expect((await fetch(`${baseUrl}/healthz`, { method: 'POST' })).status).toBe(418)
  })
})
