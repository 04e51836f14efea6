import { existsSync } from 'node:fs'

/**
 * Debian's Chromium, never a downloaded browser build (nothing outside the npm and Debian registries is
 * reachable here). CHROMIUM_PATH overrides it for other systems.
 */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export function assertChromium(): void {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `Chromium not found at ${chromiumPath}. Install it with \`apt-get install -y chromium\` ` +
        '(or set CHROMIUM_PATH); the e2e tests never download a browser.',
    )
  }
}

/** Flags for a headless Chromium on a closed network (background services would try to phone home). */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
]
