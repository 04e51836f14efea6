import { test } from '@playwright/test'
import { coreJourneys } from '../engines/core-journeys'
import { playwrightPage } from '../engines/playwright-page'
import { demoPerDescribe } from '../support/demo-process'

// The journeys Firefox and WebKit run (pnpm --filter @upkit/e2e test:engines), here in Chromium: one description,
// three engines. The Chromium-only specs beside this one go deeper (routing, throttling through CDP).
test.describe('core journeys, shared with Firefox and WebKit', () => {
  const demo = demoPerDescribe()

  for (const journey of coreJourneys) {
    test(journey.name, async ({ browser }, testInfo) => {
      test.setTimeout(180_000)
      const page = await playwrightPage(await browser.newContext())
      try {
        await journey.run(page, { demoUrl: demo().url, workDir: testInfo.outputPath('files') })
      } catch (error) {
        await testInfo.attach('browser console', {
          body: (await page.consoleLines()).join('\n') || '(nothing)',
          contentType: 'text/plain',
        })
        await testInfo.attach('demo output', {
          body: demo().output().slice(-4000),
          contentType: 'text/plain',
        })
        await page.screenshot(testInfo.outputPath('failure.png')).catch(() => {})
        throw error
      } finally {
        await page.close()
      }
    })
  }
})
