import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Builder, By, Capabilities, type WebDriver } from 'selenium-webdriver'
import { freePort } from '../support/demo-process'
import type { Engine, EnginePage, Target } from './driver'
import { CAPTURE_CONSOLE, describeTarget, markTarget, READ_CONSOLE, SELECT_MARKED } from './targets'

export const webkitDriverPath = process.env.WEBKIT_DRIVER_PATH ?? '/usr/bin/WebKitWebDriver'
export const xvfbRunPath = '/usr/bin/xvfb-run'

/**
 * The MiniBrowser that Debian's WebKitGTK library package ships (libwebkit2gtk-4.1-0, pulled in by
 * webkit2gtk-driver), under its multiarch folder; WEBKIT_MINIBROWSER_PATH overrides it.
 */
export function miniBrowserPath(): string | undefined {
  if (process.env.WEBKIT_MINIBROWSER_PATH) return process.env.WEBKIT_MINIBROWSER_PATH
  const candidates = existsSync('/usr/lib')
    ? readdirSync('/usr/lib')
        .filter((dir) => dir.endsWith('-linux-gnu'))
        .map((dir) => join('/usr/lib', dir, 'webkit2gtk-4.1/MiniBrowser'))
    : []
  return candidates.find((path) => existsSync(path))
}

/**
 * WebKitGTK (Safari's engine) through WebKitWebDriver, W3C WebDriver with selenium-webdriver. MiniBrowser needs a
 * display: the driver runs under xvfb-run (MiniBrowser's `--headless` hung in automation mode when tried).
 */
export async function launchWebKit(): Promise<Engine> {
  const binary = miniBrowserPath()
  if (!existsSync(webkitDriverPath) || !binary || !existsSync(xvfbRunPath)) {
    throw new Error(
      'WebKit needs WebKitWebDriver, MiniBrowser and xvfb-run: apt-get install -y webkit2gtk-driver xvfb ' +
        '(MiniBrowser comes with libwebkit2gtk-4.1-0)',
    )
  }
  const port = await freePort()
  // Its own process group, so closing ends xvfb-run, Xvfb and the driver together and nothing else.
  const server: ChildProcess = spawn(xvfbRunPath, ['-a', webkitDriverPath, `--port=${port}`], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  server.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  server.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  for (;;) {
    if (server.exitCode !== null)
      throw new Error(`WebKitWebDriver exited with ${server.exitCode}:\n${output}`)
    const ready = await fetch(`${url}/status`).then(
      (res) => res.ok,
      () => false,
    )
    if (ready) break
    if (Date.now() > deadline) {
      killGroup(server)
      throw new Error(`WebKitWebDriver did not answer /status within 30 s:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  const capabilities = new Capabilities({
    browserName: 'MiniBrowser',
    'webkitgtk:browserOptions': { binary, args: ['--automation'] },
  })
  return {
    name: 'webkit',
    // One WebDriver session per page: each is a new MiniBrowser with its own cookies.
    open: async () =>
      seleniumPage(await new Builder().usingServer(url).withCapabilities(capabilities).build()),
    close: async () => {
      const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()))
      killGroup(server)
      await exited
    },
  }
}

function killGroup(child: ChildProcess) {
  if (child.pid === undefined || child.exitCode !== null) return
  try {
    process.kill(-child.pid, 'SIGTERM')
  } catch {
    // Already gone.
  }
}

function seleniumPage(driver: WebDriver): EnginePage {
  const evaluate = <T>(source: string, arg?: unknown): Promise<T> =>
    driver.executeScript<T>(`return (${source})(arguments[0])`, arg ?? null)
  const element = async (target: Target) => {
    const selector = await markTarget(evaluate, target)
    const found = await driver.findElements(By.css(selector))
    if (!found[0]) throw new Error(`the element marked for ${describeTarget(target)} disappeared`)
    return found[0]
  }
  let earlier: string[] = []
  return {
    engine: 'webkit',
    goto: async (url) => {
      earlier = [...earlier, ...(await evaluate<string[]>(READ_CONSOLE).catch(() => []))]
      await driver.get(url)
      await evaluate(CAPTURE_CONSOLE)
    },
    evaluate,
    click: async (target) => {
      await (await element(target)).click()
    },
    fill: async (target, text) => {
      const field = await element(target)
      await field.click()
      await evaluate(SELECT_MARKED)
      await field.sendKeys(text)
    },
    setFiles: async (target, paths) => {
      // W3C WebDriver: Element Send Keys on a file input chooses the files, one path a line.
      await (await element(target)).sendKeys(paths.join('\n'))
    },
    screenshot: async (path) => {
      writeFileSync(path, Buffer.from(await driver.takeScreenshot(), 'base64'))
    },
    consoleLines: async () => [...earlier, ...(await evaluate<string[]>(READ_CONSOLE).catch(() => []))],
    close: () => driver.quit(),
  }
}
