import type { BrowserContext } from '@playwright/test'
import type { EnginePage, Target } from './driver'
import { markTarget } from './targets'

/**
 * A Playwright page as an `EnginePage`: how tests/core-journeys.spec.ts runs the shared journeys in Chromium
 * inside Playwright's own runner (its traces, its reporter). Targets resolve through the same in-page finder as
 * the other engines, not Playwright's locators, so a journey means the same element in every engine.
 */
export async function playwrightPage(context: BrowserContext, engine = 'chromium'): Promise<EnginePage> {
  const page = await context.newPage()
  const lines: string[] = []
  page.on('console', (message) => lines.push(`${message.type()}: ${message.text()}`))
  page.on('pageerror', (error) => lines.push(`uncaught: ${error.message}`))
  const evaluate = <T>(source: string, arg?: unknown): Promise<T> =>
    page.evaluate(`(${source})(${JSON.stringify(arg ?? null)})`) as Promise<T>
  const locate = async (target: Target) => page.locator(await markTarget(evaluate, target))
  return {
    engine,
    goto: async (url) => {
      await page.goto(url)
    },
    evaluate,
    click: async (target) => {
      await (await locate(target)).click()
    },
    fill: async (target, text) => {
      await (await locate(target)).fill(text)
    },
    setFiles: async (target, paths) => {
      await (await locate(target)).setInputFiles([...paths])
    },
    screenshot: async (path) => {
      await page.screenshot({ path })
    },
    consoleLines: async () => lines,
    close: () => context.close(),
  }
}
