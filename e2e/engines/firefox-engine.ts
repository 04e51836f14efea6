import { existsSync } from 'node:fs'
import puppeteer, { type Browser, type ElementHandle, type Page } from 'puppeteer-core'
import type { Engine, EnginePage, Target } from './driver'
import { describeTarget, markTarget, SELECT_MARKED } from './targets'

/** Debian's Firefox ESR (`apt-get install firefox-esr`); FIREFOX_PATH overrides it. Never a downloaded build. */
export const firefoxPath = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr'

/** Firefox ESR driven by puppeteer-core over WebDriver BiDi (Firefox has no CDP any more). */
export async function launchFirefox(): Promise<Engine> {
  if (!existsSync(firefoxPath)) {
    throw new Error(
      `Firefox not found at ${firefoxPath}: apt-get install -y firefox-esr (or set FIREFOX_PATH)`,
    )
  }
  const browser: Browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: firefoxPath,
    headless: true,
    // A closed network: no update checks, telemetry or captive-portal probes that would only time out.
    extraPrefsFirefox: {
      'app.update.enabled': false,
      'network.captive-portal-service.enabled': false,
      'toolkit.telemetry.enabled': false,
      'datareporting.policy.dataSubmissionEnabled': false,
    },
  })
  return {
    name: 'firefox',
    open: async () => {
      const context = await browser.createBrowserContext()
      const page = await context.newPage()
      return puppeteerPage(page, () => context.close())
    },
    close: () => browser.close(),
  }
}

function puppeteerPage(page: Page, closeContext: () => Promise<void>): EnginePage {
  const lines: string[] = []
  page.on('console', (message) => lines.push(`${message.type()}: ${message.text()}`))
  page.on('pageerror', (error) =>
    lines.push(`uncaught: ${error instanceof Error ? error.message : String(error)}`),
  )
  const evaluate = <T>(source: string, arg?: unknown): Promise<T> =>
    page.evaluate(`(${source})(${JSON.stringify(arg ?? null)})`) as Promise<T>
  const element = async (target: Target): Promise<ElementHandle<Element>> => {
    const handle = await page.$(await markTarget(evaluate, target))
    if (!handle) throw new Error(`the element marked for ${describeTarget(target)} disappeared`)
    return handle
  }
  return {
    engine: 'firefox',
    goto: async (url) => {
      await page.goto(url)
    },
    evaluate,
    click: async (target) => {
      await (await element(target)).click()
    },
    fill: async (target, text) => {
      const field = await element(target)
      await field.click()
      // Select what is there so typing replaces it, as a user would.
      await evaluate(SELECT_MARKED)
      await field.type(text)
    },
    setFiles: async (target, paths) => {
      const input = (await element(target)) as ElementHandle<HTMLInputElement>
      await input.uploadFile(...paths)
    },
    screenshot: async (path) => {
      await page.screenshot({ path: path as `${string}.png` })
    },
    consoleLines: async () => lines,
    close: closeContext,
  }
}
