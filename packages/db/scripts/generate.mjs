// Generates a Prisma client from an app's schema (the app's `postinstall` runs it through `upkit-db generate`, so a
// fresh `pnpm install` has the client). Prisma's CLI downloads a native schema engine before every command, even
// `generate`, which never uses it; pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file skips that download,
// so this works offline. Migrations use @prisma/schema-engine-wasm instead (src/schema-engine.ts).
import { spawnSync } from 'node:child_process'
import { copyFileSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, dirname, join, resolve } from 'node:path'

/**
 * @param {{ schema: string, cwd?: string, copy?: string[] }} options
 *   schema: the schema file or multi-file schema folder (relative to `cwd`);
 *   copy: files copied into that folder first, overwriting older copies (how an app keeps upkit's `upkit.prisma`
 *   beside its own models: the copy always matches the upkit version installed).
 */
export function generatePrismaClient({ schema, cwd = process.cwd(), copy = [] }) {
  const schemaPath = resolve(cwd, schema)
  for (const source of copy) {
    if (!statSync(schemaPath).isDirectory()) {
      throw new Error(`--copy needs a multi-file schema folder, but ${schemaPath} is a file.`)
    }
    const from = resolve(cwd, source)
    const to = join(schemaPath, basename(from))
    // Written only when different, so an unchanged copy keeps its mtime and git sees nothing.
    if (readFileSync(from, 'utf8') !== readOptional(to)) {
      copyFileSync(from, to)
      console.log(`copied ${from} to ${to}`)
    }
  }
  const result = spawnSync(process.execPath, [prismaCli(cwd), 'generate', '--schema', schemaPath], {
    cwd,
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
  if (result.status !== 0)
    throw new Error(`prisma generate --schema ${schemaPath} exited with ${result.status}`)
}

function readOptional(path) {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

/** The app's own `prisma` (its version must match its `@prisma/client`), else the one installed with this package. */
function prismaCli(cwd) {
  for (const base of [join(cwd, 'package.json'), import.meta.filename]) {
    try {
      const packageJson = createRequire(base).resolve('prisma/package.json')
      return join(dirname(packageJson), 'build', 'index.js')
    } catch {}
  }
  throw new Error(`The prisma package is not installed for ${cwd}: add it to the app's dependencies.`)
}
