import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  seedTenant,
  startTestBucket,
  startTestDatabase,
  type TestBucket,
  type TestDatabase,
} from '@upkit/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { UpkitUser } from './context'
import { createUpkitHttpHandler } from './http'
import { createUploadService } from './uploads/upload-service'

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4])

let db: TestDatabase
let bucket: TestBucket
let server: Server
let baseUrl: string
let ada: UpkitUser
let eve: UpkitUser
let confirmedId: string
let pendingId: string

beforeAll(async () => {
  db = await startTestDatabase()
  bucket = await startTestBucket()
  const acme = await seedTenant(db.prisma, 'acme')
  const globex = await seedTenant(db.prisma, 'globex')
  ada = { id: acme.userId, companyId: acme.companyId }
  eve = { id: globex.userId, companyId: globex.companyId }

  const uploads = createUploadService({ prisma: db.prisma, storage: bucket.storage })
  const input = {
    taskId: acme.taskId,
    fileName: 'pasted.png',
    size: PNG.length,
    mimeType: 'image/png',
  }
  const confirmed = await uploads.create(ada, { ...input, kind: 'comment-image' })
  await bucket.storage.putObject({
    key: confirmed.key,
    body: PNG,
    contentType: 'image/png',
    contentLength: PNG.length,
  })
  await uploads.confirm(ada.companyId, confirmed.upload.id)
  confirmedId = confirmed.upload.id
  pendingId = (await uploads.create(ada, { ...input, kind: 'comment-image' })).upload.id

  // The signed-in user comes from a header here; a host app reads its own session.
  const users: Record<string, UpkitUser> = { ada, eve }
  const handler = createUpkitHttpHandler({
    prisma: db.prisma,
    storage: bucket.storage,
    getUser: async (req) => users[String(req.headers['x-test-user'])] ?? null,
    health: { database: { describe: 'test db', ping: () => db.prisma.$queryRaw`SELECT 1` } },
  })
  server = createServer((req, res) => {
    void handler(req, res).then((handled) => {
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
  fetch(`${baseUrl}${path}`, { redirect: 'manual', headers: user ? { 'x-test-user': user } : {} })

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

  it('gives 404 to another company, to anonymous users, for pending and unknown files', async () => {
    expect((await get(`/files/${confirmedId}`, 'eve')).status).toBe(404)
    expect((await get(`/files/${confirmedId}`)).status).toBe(404)
    expect((await get(`/files/${pendingId}`, 'ada')).status).toBe(404)
    expect((await get('/files/00000000-0000-4000-8000-000000000000', 'ada')).status).toBe(404)
  })
})

describe('GET /healthz', () => {
  it('answers 200 with what each check uses', async () => {
    const response = await get('/healthz')
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ ok: true, checks: { database: { ok: true, uses: 'test db' } } })
  })
})

describe('routing', () => {
  it('leaves other paths and methods to the host', async () => {
    expect((await get('/trpc/anything')).status).toBe(418)
    expect((await fetch(`${baseUrl}/healthz`, { method: 'POST' })).status).toBe(418)
  })
})
