import { defineConfig } from '@playwright/test'
import { chromiumArgs, chromiumPath } from './support/chromium'

export default defineConfig({
  testDir: './tests',
  globalSetup: './global-setup.ts',
  // Each test file starts its own demo process with its own data folder; two at a time fit 2 cores.
  workers: 2,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  reporter: process.env.CI ? [['list']] : [['list']],
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: { executablePath: chromiumPath, args: chromiumArgs },
    trace: 'retain-on-failure',
  },
})
