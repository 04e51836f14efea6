import { expect, test } from '@playwright/test'
import { demoPerDescribe, makeDataDir, runDemoExpectingFailure, startDemo } from '../support/demo-process'
import { signIn } from '../support/journeys'

const ACME_TASKS = ['Ship the new logo', 'Quarterly report']
const GLOBEX_TASKS = ['Globex launch plan', 'Globex hiring']

test.describe('embedded defaults', () => {
  const demo = demoPerDescribe()

  test('health says which database and bucket answer to a local probe, only up or down to anyone else', async ({
    request,
  }) => {
    const response = await request.get(`${demo().url}/healthz`)
    expect(response.status()).toBe(200)
    const body = await response.json()
    expect(body.ok).toBe(true)
    expect(body.checks.database.uses).toMatch(/^PGlite at /)
    expect(body.checks.bucket.uses).toMatch(/^s3 http:\/\/127\.0\.0\.1:\d+\/upkit$/)

    // Through a proxy (or from a browser page) the data folder and the internal bucket address stay private.
    for (const headers of [{ 'x-forwarded-for': '203.0.113.9' }, { 'sec-fetch-site': 'cross-site' }]) {
      const outside = await request.get(`${demo().url}/healthz`, { headers })
      expect(outside.status()).toBe(200)
      expect(await outside.json()).toEqual({
        ok: true,
        checks: { database: { ok: true }, bucket: { ok: true } },
      })
    }
  })

  test('ada sees Acme tasks and never Globex ones; eve the reverse', async ({ browser }) => {
    const ada = await browser.newPage()
    await signIn(ada, demo().url, 'ada@acme.test')
    for (const title of ACME_TASKS) await expect(ada.getByRole('link', { name: title })).toBeVisible()
    for (const title of GLOBEX_TASKS) await expect(ada.getByText(title)).toHaveCount(0)
    await expect(ada.getByTestId('company-name')).toHaveText('Acme')

    const eve = await browser.newPage()
    await signIn(eve, demo().url, 'eve@globex.test')
    for (const title of GLOBEX_TASKS) await expect(eve.getByRole('link', { name: title })).toBeVisible()
    for (const title of ACME_TASKS) await expect(eve.getByText(title)).toHaveCount(0)

    // Eve opening Ada's task URL gets "not found", not Acme's data.
    await ada.getByRole('link', { name: ACME_TASKS[0] as string }).click()
    await expect(ada.getByRole('heading', { name: ACME_TASKS[0] as string })).toBeVisible()
    await eve.goto(ada.url())
    await expect(eve.getByRole('alert')).toHaveText('This task does not exist.')
    await expect(eve.getByText('Upload the final logo files')).toHaveCount(0)
  })

  test('an unknown email gets a clear message', async ({ page }) => {
    await page.goto(demo().url)
    await page.getByLabel('Email').fill('mallory@nowhere.test')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect(page.getByRole('alert')).toHaveText('No demo user has the email mallory@nowhere.test.')
  })

  test('a second process on the same data folder refuses to start', async () => {
    const second = await runDemoExpectingFailure({ dataDir: demo().dataDir })
    expect(second.code).not.toBe(0)
    expect(second.output).toContain(demo().dataDir)
    expect(second.output).toMatch(/in use|locked/i)
  })
})

test('a restart keeps every row, the session and the seed is not repeated', async ({ page }) => {
  const data = makeDataDir()
  let demo = await startDemo({ dataDir: data.dir })
  try {
    await signIn(page, demo.url, 'ada@acme.test')
    const before = await page.getByRole('listitem').allTextContents()
    expect(before).toEqual(ACME_TASKS)
    const port = Number(new URL(demo.url).port)
    await demo.stop()
    demo = await startDemo({ dataDir: data.dir, port })
    await page.reload()
    await expect(page.getByRole('heading', { name: 'Tasks' })).toBeVisible()
    expect(await page.getByRole('listitem').allTextContents()).toEqual(before)
  } finally {
    await demo.stop()
    data.remove()
  }
})
