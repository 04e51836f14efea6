import { execFileSync } from 'node:child_process'
import { resolve } from 'node:path'
import { assertChromium } from './support/chromium'

/** Fails loudly when Chromium is missing, then builds the web app once for every test's demo process. */
export default function globalSetup() {
  assertChromium()
  execFileSync('pnpm', ['--filter', '@upkit/demo', 'build'], {
    cwd: resolve(import.meta.dirname, '..'),
    stdio: 'inherit',
  })
}
