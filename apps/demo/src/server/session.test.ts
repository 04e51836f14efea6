import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DemoServer, startDemoServer } from './app'
import { loadConfig } from './config'

let dir: string
let server: DemoServer

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'upkit-demo-session-'))
  server = await startDemoServer(loadConfig({ UPKIT_DATA_DIR: dir, PORT: '0' }, dir))
}, 120_000)

afterAll(async () => {
  await server?.close()
  await rm(dir, { recursive: true, force: true })
})

/** A tRPC call as the browser makes it: same origin, the session cookie if any. */
async function call(path: string, cookie: string, body?: unknown) {
  const res = await fetch(`${server.url}/trpc/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { origin: server.url, 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { res, json: (await res.json()) as { result?: { data: unknown } } }
}

describe('the session lookup', () => {
  it("signs in the cookie's user while the session row lives, and nobody once it expired", async () => {
    const signIn = await call('auth.signIn', '', { email: 'ada@acme.test' })
    const cookie = (signIn.res.headers.get('set-cookie') ?? '').split(';')[0] as string
    expect(cookie).toMatch(/^upkit_session=/)
    const me = await call('auth.me', cookie)
    expect(me.json.result?.data).toMatchObject({ email: 'ada@acme.test' })

    await server.database.prisma.session.updateMany({ data: { expiresAt: new Date(Date.now() - 1000) } })
    expect((await call('auth.me', cookie)).json.result?.data).toBeNull()
    expect((await call('tasks.list', cookie)).res.status).toBe(401)
  })

  it('signs in nobody for a cookie whose session id was never signed', async () => {
    const forged = 'upkit_session=00000000-0000-4000-8000-000000000000.bm90LWEtc2lnbmF0dXJl'
    expect((await call('auth.me', forged)).json.result?.data).toBeNull()
  })
})
