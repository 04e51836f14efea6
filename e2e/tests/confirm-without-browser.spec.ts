import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from '@playwright/test'
import { type DemoProcess, freePort, makeDataDir, startDemo } from '../support/demo-process'
import { openTask, signIn } from '../support/journeys'

const TASK = 'Ship the new logo'

// A tab closed after the last byte and before `uploads.confirm`: the sweeper confirms the complete upload itself
// (after its grace: 60 s by default, 1 s here through UPKIT_CONFIRM_GRACE_MS so the test takes seconds), and the
// file is listed for the next visitor. The browser's confirm never reaches the server, so only the sweeper can
// make the file appear.
test.describe('confirm without the browser', () => {
  let data: ReturnType<typeof makeDataDir>
  let demo: DemoProcess
  let dir: string

  test.beforeAll(async () => {
    data = makeDataDir()
    demo = await startDemo({
      dataDir: data.dir,
      env: {
        UPKIT_LOCAL_S3_PORT: String(await freePort()),
        UPKIT_SWEEP_INTERVAL_SECONDS: '1',
        UPKIT_CONFIRM_GRACE_MS: '1000',
      },
    })
    dir = mkdtempSync(join(tmpdir(), 'upkit-e2e-files-'))
  })

  test.afterAll(async () => {
    await demo?.stop()
    data?.remove()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  test('a page closed after the last byte, before confirm: the sweeper confirms the file and it is listed', async ({
    browser,
  }) => {
    test.setTimeout(60_000)
    const file = join(dir, 'closed-tab.bin')
    writeFileSync(file, randomBytes(64 * 1024))

    const context = await browser.newContext()
    const page = await context.newPage()
    await signIn(page, demo.url, 'ada@acme.test')
    await openTask(page, TASK)
    await expect(page.getByText('No attachments yet.')).toBeVisible()

    // The confirm never reaches the server, as when the tab closes right after the last byte.
    let confirmsBlocked = 0
    await page.route(/\/trpc\/[^?]*uploads\.confirm/, async (route) => {
      confirmsBlocked++
      await route.abort()
    })
    const bucketPut = page.waitForResponse(
      (response) => response.request().method() === 'PUT' && response.url().includes('/uploads/'),
    )
    await page.getByLabel('Attach files').setInputFiles(file)
    expect((await bucketPut).status()).toBe(200)
    await expect.poll(() => confirmsBlocked).toBeGreaterThan(0)
    await context.close()

    // A new page, later: the sweeper (every second here) confirmed it once its object was a second old.
    const next = await browser.newPage()
    await signIn(next, demo.url, 'ada@acme.test')
    await openTask(next, TASK)
    const attachments = next.getByRole('list', { name: 'Attachments' })
    await expect(async () => {
      await next.reload()
      await expect(attachments.getByRole('link', { name: 'Download closed-tab.bin' })).toBeVisible({
        timeout: 2_000,
      })
    }).toPass({ timeout: 30_000, intervals: [1_000] })
    await next.close()
  })
})
