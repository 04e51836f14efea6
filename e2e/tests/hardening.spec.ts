import { createServer, request as httpRequest, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type BrowserContext, expect, type Page, test } from '@playwright/test'
import { demoPerDescribe } from '../support/demo-process'
import { openTask, signIn } from '../support/journeys'

/**
 * The demo attacked at the request level, with Chromium as the victim's browser: pages on other origins, a copied
 * cookie, a rebound DNS name, oversized batches, sign-in guesses.
 */

const TASK = 'Ship the new logo'

/** A site of the attacker's on a port of its own: `/` answers whatever page the test sets. */
async function startAttackerSite(): Promise<{ server: Server; port: number; setPage(html: string): void }> {
  let page = '<!doctype html><p>nothing yet</p>'
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    server,
    port: (server.address() as AddressInfo).port,
    setPage: (html) => {
      page = html
    },
  }
}

/** node:http, because fetch and Playwright's request pick the Host themselves. */
function rawGet(url: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = httpRequest(url, { headers }, (res) => {
        let body = ''
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString()
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      })
      req.on('error', reject)
      req.end()
    },
  )
}

async function me(context: BrowserContext, baseUrl: string) {
  const answer = await context.request.get(`${baseUrl}/trpc/auth.me`)
  return (await answer.json()).result.data as { email: string } | null
}

async function commentCount(page: Page, baseUrl: string, taskId: string): Promise<number> {
  const input = encodeURIComponent(JSON.stringify({ taskId }))
  const answer = await page.request.get(`${baseUrl}/trpc/comments.list?input=${input}`)
  return ((await answer.json()).result.data as unknown[]).length
}

test.describe('requests from elsewhere', () => {
  const demo = demoPerDescribe()
  let attacker: Awaited<ReturnType<typeof startAttackerSite>>

  test.beforeAll(async () => {
    attacker = await startAttackerSite()
  })
  test.afterAll(async () => {
    attacker?.server.close()
  })

  test('a page on another origin cannot sign the victim out or post a comment as them', async ({ page }) => {
    await signIn(page, demo().url, 'ada@acme.test')
    const taskId = await openTask(page, TASK)
    const before = await commentCount(page, demo().url, taskId)
    const target = new URL(demo().url)

    // 127.0.0.1 on another port is the same site (SameSite=Lax sends the cookie); localhost is another site.
    for (const host of ['127.0.0.1', 'localhost']) {
      const evil = `http://${host}:${attacker.port}`
      attacker.setPage(`<!doctype html>
        <form id="f" method="POST" action="${demo().url}/trpc/auth.signOut" enctype="text/plain">
          <input name='{"x":"' value='"}'>
        </form>
        <script>
          fetch(${JSON.stringify(`${demo().url}/trpc/comments.create`)}, {
            method: 'POST', mode: 'no-cors', credentials: 'include',
            headers: { 'content-type': 'text/plain' },
            body: JSON.stringify({ taskId: ${JSON.stringify(taskId)}, body: 'posted by ${host}' }),
          }).finally(() => document.getElementById('f').submit())
        </script>`)
      const landed = page.waitForURL(`${demo().url}/trpc/auth.signOut`)
      await page.goto(evil)
      await landed
      await expect(page.locator('body')).toContainText('Forbidden')
      expect(await me(page.context(), demo().url)).toMatchObject({ email: 'ada@acme.test' })
    }
    expect(await commentCount(page, demo().url, taskId)).toBe(before)
    await page.goto(demo().url)
    await expect(page.getByRole('heading', { name: 'Tasks' })).toBeVisible()
    expect(target.host).toBe(new URL(page.url()).host)
  })

  test('a mutation with a foreign Origin gets 403; the app’s own origin and non-browser clients pass', async ({
    request,
  }) => {
    const signInAs = (headers: Record<string, string>) =>
      request.post(`${demo().url}/trpc/auth.signIn`, { data: { email: 'bob@acme.test' }, headers })
    expect((await signInAs({ origin: 'http://evil.test' })).status()).toBe(403)
    expect((await signInAs({ origin: 'null' })).status()).toBe(403)
    expect((await signInAs({ origin: demo().url, 'sec-fetch-site': 'cross-site' })).status()).toBe(403)
    expect((await signInAs({ origin: demo().url, 'sec-fetch-site': 'same-origin' })).status()).toBe(200)
    expect((await signInAs({})).status()).toBe(200)
  })

  test('a request naming another host (DNS rebinding) gets 403 on pages, tRPC and files', async () => {
    const { port } = new URL(demo().url)
    for (const path of ['/', '/trpc/auth.me', '/files/00000000-0000-4000-8000-000000000000']) {
      const rebound = await rawGet(`${demo().url}${path}`, { host: `rebound.evil.test:${port}` })
      expect(rebound.status, path).toBe(403)
    }
    expect((await rawGet(`${demo().url}/trpc/auth.me`, { host: `localhost:${port}` })).status).toBe(200)
  })

  test('the app cannot be framed by another site', async ({ page }) => {
    attacker.setPage(`<!doctype html><iframe id="app" src="${demo().url}" width="600" height="400"></iframe>`)
    await page.goto(`http://localhost:${attacker.port}`)
    // Chromium replaces a refused frame's document with its error page: no app to click through.
    await expect
      .poll(() => page.frames().map((frame) => frame.url()))
      .toContain('chrome-error://chromewebdata/')
  })
})

test.describe('sessions, headers and volume', () => {
  const demo = demoPerDescribe()

  test('a cookie copied before sign-out is refused after it', async ({ page, browser }) => {
    await signIn(page, demo().url, 'ada@acme.test')
    const copied = await page.context().cookies()
    expect(copied.find((c) => c.name === 'upkit_session')?.sameSite).toBe('Lax')
    await page.getByRole('button', { name: 'Sign out' }).click()
    await expect(page.getByLabel('Email')).toBeVisible()

    const thief = await browser.newContext()
    await thief.addCookies(copied)
    expect(await me(thief, demo().url)).toBeNull()
    expect((await thief.request.get(`${demo().url}/trpc/tasks.list`)).status()).toBe(401)
    await thief.close()
  })

  test('pages carry a CSP, no framing, no sniffing, a referrer policy; source maps are not served', async ({
    request,
  }) => {
    const page = await request.get(demo().url)
    const headers = page.headers()
    const csp = headers['content-security-policy'] ?? ''
    expect(csp).toContain("default-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).toMatch(/connect-src 'self' http:\/\/127\.0\.0\.1:\d+/)
    expect(headers['x-frame-options']).toBe('DENY')
    expect(headers['x-content-type-options']).toBe('nosniff')
    expect(headers['referrer-policy']).toBe('same-origin')

    const script = /src="(\/assets\/[^"]+\.js)"/.exec(await page.text())?.[1]
    expect(script).toBeTruthy()
    expect((await request.get(`${demo().url}${script}`)).status()).toBe(200)
    expect((await request.get(`${demo().url}${script}.map`)).status()).toBe(404)
  })

  test('the journeys run under the CSP without a violation', async ({ page }) => {
    const violations: string[] = []
    page.on('console', (message) => {
      if (/content security policy/i.test(message.text())) violations.push(message.text())
    })
    await signIn(page, demo().url, 'ada@acme.test')
    await openTask(page, TASK)
    await page.getByRole('link', { name: 'Company settings' }).click()
    await expect(page.getByRole('heading', { name: 'Company settings' })).toBeVisible()
    await page.waitForLoadState('networkidle')
    expect(violations).toEqual([])
  })

  test('signed-in tRPC answers are not cacheable', async ({ page }) => {
    await signIn(page, demo().url, 'ada@acme.test')
    const answer = await page.request.get(`${demo().url}/trpc/tasks.list`)
    expect(answer.status()).toBe(200)
    expect(answer.headers()['cache-control']).toBe('no-store')
  })

  test('a batch of 1,000 calls is refused before any runs; the browser’s batch size passes', async ({
    page,
  }) => {
    await signIn(page, demo().url, 'ada@acme.test')
    const batch = (n: number) =>
      page.request.get(
        `${demo().url}/trpc/${Array(n).fill('tasks.list').join(',')}?batch=1&input=${encodeURIComponent('{}')}`,
      )
    expect((await batch(1000)).status()).toBe(400)
    expect((await batch(20)).status()).toBe(200)
  })
})

/** Fixed one-minute windows: start well inside one so the count is not reset half-way. */
async function startOfWindow() {
  const left = 60_000 - (Date.now() % 60_000)
  if (left < 15_000) await new Promise((resolve) => setTimeout(resolve, left + 100))
}

test.describe('sign-in guesses at one email', () => {
  const demo = demoPerDescribe()

  test('the 11th attempt at one email in a minute gets 429 with Retry-After', async ({ request }) => {
    await startOfWindow()
    const attempt = () =>
      request.post(`${demo().url}/trpc/auth.signIn`, { data: { email: 'eve@globex.test' } })
    for (let i = 0; i < 10; i++) expect((await attempt()).status()).toBe(200)
    const refused = await attempt()
    expect(refused.status()).toBe(429)
    expect(Number(refused.headers()['retry-after'])).toBeGreaterThan(0)
    expect((await refused.json()).error.message).toMatch(/Too many sign-in attempts/)
  })
})

// A demo of its own: the attempts above count against this client's address too.
test.describe('sign-in guesses from one address', () => {
  const demo = demoPerDescribe()

  test('guessing many emails from one address is throttled too', async ({ request }) => {
    await startOfWindow()
    const statuses: number[] = []
    for (let i = 0; i < 31; i++) {
      const answer = await request.post(`${demo().url}/trpc/auth.signIn`, {
        data: { email: `guess${i}@acme.test` },
      })
      statuses.push(answer.status())
    }
    expect(statuses.slice(0, 30).every((s) => s === 404)).toBe(true)
    expect(statuses[30]).toBe(429)
  })
})
