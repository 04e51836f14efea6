import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { TRPCError } from '@trpc/server'
import { createHTTPHandler } from '@trpc/server/adapters/standalone'
import type { UpkitErrorCode } from '@upkit/core'
import {
  seedTenant,
  startTestBucket,
  startTestDatabase,
  type TestBucket,
  type TestDatabase,
} from '@upkit/testing'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createUpkitHttpHandler } from '../http'
import { createCallerFactory, router } from '../trpc'
import { createLogosRouter } from './logos-router'

const PNG_1X1 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='
const WEBP_1X1 = 'UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA'
const JPEG_1X1 =
  '/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA='

/** A PNG header claiming 20000x20000 pixels: a few bytes that would decode to 1.6 GB. */
function pngBomb(): string {
  const bytes = Buffer.from(PNG_1X1, 'base64')
  bytes.writeUInt32BE(20_000, 16)
  bytes.writeUInt32BE(20_000, 20)
  return bytes.toString('base64')
}

let db: TestDatabase
let bucket: TestBucket
let acme: { id: string; userId: string }
let globex: { id: string; userId: string }
let server: Server
let baseUrl: string
const createCaller = () => createCallerFactory(createLogosRouter({ prisma: db.prisma }))

beforeAll(async () => {
  db = await startTestDatabase()
  bucket = await startTestBucket()
  const seed = async (slug: string) => {
    const tenant = await seedTenant(db.prisma, slug)
    return { id: tenant.companyId, userId: tenant.userId }
  }
  acme = await seed('acme')
  globex = await seed('globex')
  // A real HTTP server, as a host app would mount it: tRPC with a body cap, plus upkit's plain routes.
  const trpc = createHTTPHandler({
    router: router({ logos: createLogosRouter({ prisma: db.prisma }) }),
    basePath: '/trpc/',
    maxBodySize: 2 * 1024 * 1024,
    createContext: () => ({ user: { id: acme.userId, companyId: acme.id } }),
  })
  const http = createUpkitHttpHandler({
    prisma: db.prisma,
    storage: bucket.storage,
    getUser: async () => null,
    health: {},
  })
  server = createServer((req, res) => {
    void http(req, res).then((handled) => {
      if (!handled) trpc(req, res)
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

const ada = () => createCaller()({ user: { id: acme.userId, companyId: acme.id } })
const eve = () => createCaller()({ user: { id: globex.userId, companyId: globex.id } })
const storedHash = async () =>
  (await db.prisma.company.findUniqueOrThrow({ where: { id: acme.id }, select: { logoHash: true } })).logoHash

async function expectRefusal(
  promise: Promise<unknown>,
  trpcCode: TRPCError['code'],
  upkitCode: UpkitErrorCode,
) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(TRPCError)
  expect((error as TRPCError).code).toBe(trpcCode)
  expect(((error as TRPCError).cause as { code?: string }).code).toBe(upkitCode)
  return error as TRPCError
}

describe('logos', () => {
  beforeEach(async () => {
    await ada().set({ companyId: acme.id, imageBase64: PNG_1X1 })
  })

  it('stores PNG, JPEG and WebP and serves each with its type, a strong ETag, immutable caching and nosniff', async () => {
    for (const [base64, type] of [
      [PNG_1X1, 'image/png'],
      [JPEG_1X1, 'image/jpeg'],
      [WEBP_1X1, 'image/webp'],
    ] as const) {
      const result = await ada().set({ companyId: acme.id, imageBase64: base64 })
      const hash = createHash('sha256').update(Buffer.from(base64, 'base64')).digest('hex')
      expect(result).toMatchObject({ url: `/logos/${acme.id}/${hash}`, mimeType: type, width: 1, height: 1 })
      const response = await fetch(`${baseUrl}${result.url}`)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe(type)
      expect(response.headers.get('etag')).toBe(`"${hash}"`)
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
      expect(response.headers.get('x-content-type-options')).toBe('nosniff')
      expect(Buffer.from(await response.arrayBuffer()).toString('base64')).toBe(base64)

      const revalidated = await fetch(`${baseUrl}${result.url}`, {
        headers: { 'if-none-match': `"${hash}"` },
      })
      expect(revalidated.status).toBe(304)
      expect(await revalidated.text()).toBe('')
    }
  })

  it('404s a stale hash and a removed logo', async () => {
    const first = await ada().set({ companyId: acme.id, imageBase64: PNG_1X1 })
    await ada().set({ companyId: acme.id, imageBase64: WEBP_1X1 })
    expect((await fetch(`${baseUrl}${first.url}`)).status).toBe(404)
    await ada().remove({ companyId: acme.id })
    expect(await ada().get({ companyId: acme.id })).toEqual({ url: null })
  })

  it('refuses each bad logo with its typed error and keeps the old one', async () => {
    const before = await storedHash()
    expect(before).toMatch(/^[0-9a-f]{64}$/)
    const html = Buffer.from('<!doctype html><script>alert(1)</script>').toString('base64')
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    ).toString('base64')
    const tooLarge = Buffer.concat([Buffer.from(PNG_1X1, 'base64'), Buffer.alloc(1024 * 1024)]).toString(
      'base64',
    )

    await expectRefusal(
      ada().set({ companyId: acme.id, imageBase64: html }),
      'UNSUPPORTED_MEDIA_TYPE',
      'FILE_TYPE_NOT_ALLOWED',
    )
    await expectRefusal(
      ada().set({ companyId: acme.id, imageBase64: svg }),
      'UNSUPPORTED_MEDIA_TYPE',
      'FILE_TYPE_NOT_ALLOWED',
    )
    const bomb = await expectRefusal(
      ada().set({ companyId: acme.id, imageBase64: pngBomb() }),
      'PAYLOAD_TOO_LARGE',
      'IMAGE_TOO_LARGE',
    )
    expect(bomb.message).toBe('The logo is 20000×20000 pixels; logos can be at most 4096×4096.')
    await expectRefusal(
      ada().set({ companyId: acme.id, imageBase64: tooLarge }),
      'PAYLOAD_TOO_LARGE',
      'FILE_TOO_LARGE',
    )
    await expectRefusal(
      ada().set({ companyId: acme.id, imageBase64: 'not base64!' }),
      'BAD_REQUEST',
      'INVALID_INPUT',
    )
    await expectRefusal(eve().set({ companyId: acme.id, imageBase64: WEBP_1X1 }), 'FORBIDDEN', 'FORBIDDEN')
    await expectRefusal(eve().remove({ companyId: acme.id }), 'FORBIDDEN', 'FORBIDDEN')
    expect(await storedHash()).toBe(before)
  })

  it('refuses a request body over the cap before parsing it, and keeps the old logo', async () => {
    const before = await storedHash()
    const body = JSON.stringify({ companyId: acme.id, imageBase64: 'A'.repeat(3 * 1024 * 1024) })
    const response = await fetch(`${baseUrl}/trpc/logos.set`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    })
    expect(response.status).toBe(413)
    const payload = (await response.json()) as { error: { data: { code: string } } }
    expect(payload.error.data.code).toBe('PAYLOAD_TOO_LARGE')
    expect(await storedHash()).toBe(before)
  })
})
