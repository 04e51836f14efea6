import { defineConfig } from 'vitest/config'

// Lets the package's tests run on their own; the root config runs them with everything else.
export default defineConfig({
  test: { include: ['src/**/*.test.ts'], testTimeout: 30_000 },
})
