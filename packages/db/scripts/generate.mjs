// Generates the Prisma client into src/generated/prisma (run by `postinstall`, so a fresh `pnpm install` has it).
// Prisma's CLI downloads a native schema engine before every command, even `generate`, which never uses it;
// pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file skips that download, so this works offline.
// Migrations use @prisma/schema-engine-wasm instead (src/schema-engine.ts).
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const cli = join(dirname(require.resolve('prisma/package.json')), 'build', 'index.js')

const result = spawnSync(process.execPath, [cli, 'generate', '--schema', 'prisma/schema.prisma'], {
  cwd: packageDir,
  stdio: 'inherit',
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    // No update check or telemetry request: neither host is reachable from CI or air-gapped machines.
    CHECKPOINT_DISABLE: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  },
})
if (result.error) throw result.error
process.exit(result.status ?? 1)
