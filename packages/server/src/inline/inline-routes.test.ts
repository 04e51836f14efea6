import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHTTPHandler } from '@trpc/server/adapters/standalone'
import { startTestBucket, startTestDatabase, type TestBucket, type TestDatabase } from '@upkit/testing'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { JPEG_1X1 as JPEG_1X1_BYTES } from '../test-support/chromium-images'
import { createTestApp, expectRefusal, type TestContext } from '../test-support/test-app'

const PNG_1X1 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='
const WEBP_1X1 = 'UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA'
// Chromium's canvas encoding: the former fixture here was a JPEG header with no scan data, which the full check
// now refuses.
const JPEG_1X1 = JPEG_1X1_BYTES.toString('base64')

/** A PNG header claiming 20000x20000 pixels: a few bytes that would decode to 1.6 GB. */
function pngBomb(): string {
  const bytes = Buffer.from(PNG_1X1, 'base64')
  bytes.writeUInt32BE(20_000, 16)
  bytes.writeUInt32BE(20_000, 20)
  return bytes.toString('base64')
}

let db: TestDatabase
let bucket: TestBucket
let app: ReturnType<typeof createTestApp>
let acme: { id: string; user: NonNullable<TestContext['user']> }
let globex: { id: string; user: NonNullable<TestContext['user']> }
let server: Server
let baseUrl: string

beforeAll(async () => {
  db = await startTestDatabase()
  bucket = await startTestBucket()
  app = createTestApp(db, bucket, { paths: { inline: '/logos/' } })
  const a = app.tenant()
  const g = app.tenant()
  acme = { id: a.companyId, user: a.user }
  globex = { id: g.companyId, user: g.user }
  // A real HTTP server, as a host app would mount it: tRPC with a body cap, plus upkit's plain routes.
  const trpc = createHTTPHandler({
    router: app.appRouter,
    basePath: '/trpc/',
    maxBodySize: 2 * 1024 * 1024,
    createContext: () => ({ user: acme.user }),
  })
  server = createServer((req, res) => {
    void app.upkit.http(req, res).then((handled) => {
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

const logo = (companyId: string) => ({ route: 'companyLogo' as const, input: { companyId } })
const ada = () => app.caller(acme.user).inline
const eve = () => app.caller(globex.user).inline
const storedHash = async () => app.logos.get(acme.id)?.hash ?? null

describe('inline image routes (a company logo)', () => {
  beforeEach(async () => {
    await ada().set({ ...logo(acme.id), imageBase64: PNG_1X1 })
  })

  it('stores PNG, JPEG and WebP and serves each with its type, a strong ETag, immutable caching and nosniff', async () => {
    for (const [base64, type] of [
      [PNG_1X1, 'image/png'],
      [JPEG_1X1, 'image/jpeg'],
      [WEBP_1X1, 'image/webp'],
    ] as const) {
      const result = await ada().set({ ...logo(acme.id), imageBase64: base64 })
      const hash = createHash('sha256').update(Buffer.from(base64, 'base64')).digest('hex')
      expect(result).toMatchObject({
        url: `/logos/companyLogo/${acme.id}/${hash}`,
        hash,
        mimeType: type,
        width: 1,
        height: 1,
      })
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
    const first = await ada().set({ ...logo(acme.id), imageBase64: PNG_1X1 })
    await ada().set({ ...logo(acme.id), imageBase64: WEBP_1X1 })
    expect((await fetch(`${baseUrl}${first.url}`)).status).toBe(404)
    await ada().remove(logo(acme.id))
    expect(await storedHash()).toBeNull()
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
      ada().set({ ...logo(acme.id), imageBase64: html }),
      'UNSUPPORTED_MEDIA_TYPE',
      'FILE_TYPE_NOT_ALLOWED',
    )
    await expectRefusal(
      ada().set({ ...logo(acme.id), imageBase64: svg }),
      'UNSUPPORTED_MEDIA_TYPE',
      'FILE_TYPE_NOT_ALLOWED',
    )
    const bomb = await expectRefusal(
      ada().set({ ...logo(acme.id), imageBase64: pngBomb() }),
      'PAYLOAD_TOO_LARGE',
      'IMAGE_TOO_LARGE',
    )
    expect(bomb.message).toBe('The logo is 20000×20000 pixels; it can be at most 4096×4096.')
    await expectRefusal(
      ada().set({ ...logo(acme.id), imageBase64: tooLarge }),
      'PAYLOAD_TOO_LARGE',
      'FILE_TOO_LARGE',
    )
    await expectRefusal(
      ada().set({ ...logo(acme.id), imageBase64: 'not base64!' }),
      'BAD_REQUEST',
      'INVALID_INPUT',
    )
    // Signature + IHDR only: the header reads as a 1x1 PNG, the image data and IEND are missing.
    const truncated = Buffer.from(PNG_1X1, 'base64').subarray(0, 33).toString('base64')
    const corrupt = await expectRefusal(
      ada().set({ ...logo(acme.id), imageBase64: truncated }),
      'UNPROCESSABLE_CONTENT',
      'IMAGE_CORRUPT',
    )
    expect(corrupt.message).toBe(
      'The logo is damaged or incomplete (the IEND chunk is missing: the file is cut off); save it again and choose the new file.',
    )
    const flipped = Buffer.from(PNG_1X1, 'base64')
    flipped[45] = (flipped[45] as number) ^ 0xff
    await expectRefusal(
      ada().set({ ...logo(acme.id), imageBase64: flipped.toString('base64') }),
      'UNPROCESSABLE_CONTENT',
      'IMAGE_CORRUPT',
    )
    await expectRefusal(eve().set({ ...logo(acme.id), imageBase64: WEBP_1X1 }), 'FORBIDDEN', 'FORBIDDEN')
    await expectRefusal(eve().remove(logo(acme.id)), 'FORBIDDEN', 'FORBIDDEN')
    expect(await storedHash()).toBe(before)
  })

  it('refuses a request body over the cap before parsing it, and keeps the old logo', async () => {
    const before = await storedHash()
    const body = JSON.stringify({ ...logo(acme.id), imageBase64: 'A'.repeat(3 * 1024 * 1024) })
    const response = await fetch(`${baseUrl}/trpc/uploads.inline.set`, {
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
