import { readdir, readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils'
import type { MigrationList, SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg'
import * as bindings from '@prisma/schema-engine-wasm/schema_engine_bg'
import { PrismaPGlite } from 'pglite-prisma-adapter'

// Prisma's CLI only drives a native schema-engine binary that it downloads on first use, which these machines
// (and air-gapped deploys) cannot fetch. The wasm build of the same engine ships inside an npm package and talks
// to the database through a driver adapter, so migrations work wherever the app's own driver does.

const here = dirname(fileURLToPath(import.meta.url))

/** The package's own folder; `prisma/` (schema + migrations) sits beside `src/`. */
export const packageDir = join(here, '..')
export const schemaPath = join(packageDir, 'prisma', 'schema.prisma')
export const migrationsDir = join(packageDir, 'prisma', 'migrations')

/** No tables or enums are managed outside Prisma. */
export const noExternalEntities = { externalTables: [], externalEnums: [] }

interface PanicRegistry {
  get(): string
  set_message(message: string): void
}

declare global {
  // The wasm module reports Rust panics through this global (see schema_engine_bg.js).
  var PRISMA_WASM_PANIC_REGISTRY: PanicRegistry | undefined
}

// Our lib (ES2023, no DOM) has no WebAssembly types; these are the only two members we use.
interface WebAssemblyApi {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: Record<string, unknown> } }>
  RuntimeError: new () => Error
}
const wasmApi = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly

let loaded: Promise<void> | undefined

// The engine starts a 10 s timeout around each command and never clears it, which would keep a finished
// script (or a test run) alive for 10 s. We hand it timers that we unref once no engine call is in flight.
const engineTimers = new Set<NodeJS.Timeout>()
let enginesInFlight = 0

function withUnrefTimers(imports: Record<string, unknown>): Record<string, unknown> {
  const wrapped = { ...imports }
  for (const name of Object.keys(imports)) {
    if (!name.startsWith('__wbg_setTimeout_')) continue
    wrapped[name] = (callback: () => void, ms: number) => {
      const timer = setTimeout(callback, ms >>> 0)
      if (enginesInFlight === 0) timer.unref()
      else engineTimers.add(timer)
      return timer
    }
  }
  return wrapped
}

// The package's entry point does `import * as wasm from './schema_engine_bg.wasm'` (ES module integration for
// wasm), which Node 20 cannot load, so we instantiate the module by hand exactly as that entry point would.
function loadWasm(): Promise<void> {
  loaded ??= (async () => {
    if (globalThis.PRISMA_WASM_PANIC_REGISTRY === undefined) {
      let message = ''
      globalThis.PRISMA_WASM_PANIC_REGISTRY = {
        get: () => message,
        set_message: (value) => {
          message = `RuntimeError: ${value}`
        },
      }
    }
    const require = createRequire(import.meta.url)
    const entry = require.resolve('@prisma/schema-engine-wasm')
    const bytes = await readFile(join(dirname(entry), 'schema_engine_bg.wasm'))
    const { instance } = await wasmApi.instantiate(bytes, {
      './schema_engine_bg.js': withUnrefTimers(bindings),
    })
    bindings.__wbg_set_wasm(instance.exports)
    const start = instance.exports.__wbindgen_start
    if (typeof start !== 'function')
      throw new Error('@prisma/schema-engine-wasm: __wbindgen_start is missing')
    start()
  })()
  return loaded
}

/**
 * Runs `fn` with a wasm schema engine connected through `factory`, then frees the engine.
 * The caller owns the factory's connection (e.g. the PGlite instance) and closes it.
 */
export async function withSchemaEngine<T>(
  factory: SqlMigrationAwareDriverAdapterFactory,
  fn: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  await loadWasm()
  const schema = await readFile(schemaPath, 'utf8')
  enginesInFlight++
  try {
    return await runEngine(schema, factory, fn)
  } finally {
    enginesInFlight--
    if (enginesInFlight === 0) {
      for (const timer of engineTimers) timer.unref()
      engineTimers.clear()
    }
  }
}

async function runEngine<T>(
  schema: string,
  factory: SqlMigrationAwareDriverAdapterFactory,
  fn: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const engine = await bindings.SchemaEngine.new(
    { datamodels: [[schemaPath, schema]] },
    // The engine logs JSON lines here; they are only useful when debugging the engine itself.
    (_log: string) => {},
    bindMigrationAwareSqlAdapterFactory(factory),
  )
  try {
    return await fn(engine)
  } catch (error) {
    throw withPanicMessage(error)
  } finally {
    engine.free()
  }
}

function withPanicMessage(error: unknown): unknown {
  if (error instanceof wasmApi.RuntimeError) {
    const panic = globalThis.PRISMA_WASM_PANIC_REGISTRY?.get()
    return new Error(`Prisma schema engine panicked: ${panic || error.message}`, { cause: error })
  }
  return error
}

/** Reads the migrations folder the way Prisma's CLI does (folders sorted by name, each with migration.sql). */
export async function readMigrations(dir: string = migrationsDir): Promise<MigrationList> {
  const lockfilePath = 'migration_lock.toml'
  const lockfile = await readFile(join(dir, lockfilePath), 'utf8').catch(() => null)
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return []
    throw error
  })
  const folders = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b))
  const migrationDirectories = await Promise.all(
    folders.map(async (name) => {
      const path = 'migration.sql'
      const content = await readFile(join(dir, name, path), 'utf8').then(
        (value) => ({ tag: 'ok' as const, value }),
        (error: Error) => ({ tag: 'error' as const, value: error.message }),
      )
      return { path: name, migrationFile: { path, content } }
    }),
  )
  return {
    baseDir: dir,
    lockfile: { path: lockfilePath, content: lockfile },
    migrationDirectories,
    shadowDbInitScript: '',
  }
}

/**
 * SQL that would bring a database migrated with `migrations` up to `schema.prisma`, or null when they match.
 * Runs on throwaway in-memory PGlite: the engine replays the migrations into a shadow database and diffs.
 */
export async function pendingSchemaChanges(migrations: MigrationList): Promise<string | null> {
  const schema = await readFile(schemaPath, 'utf8')
  const client = new PGlite()
  try {
    // The wasm engine's `createMigration` insists on a shadow database URL it cannot use; `diff` from the
    // migrations folder uses the adapter's shadow database and renders the same SQL.
    const result = await withSchemaEngine(new PrismaPGlite(client), (engine) =>
      engine.diff({
        // Without any migration there is no migration_lock.toml to tell the engine the connector yet.
        from:
          migrations.migrationDirectories.length === 0
            ? { tag: 'empty' }
            : { tag: 'migrations', ...migrations },
        to: { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: schema }] },
        script: true,
        // Makes exitCode 2 mean "not empty", as in `prisma migrate diff --exit-code`.
        exitCode: true,
        filters: noExternalEntities,
      }),
    )
    return result.exitCode === 2 ? result.stdout : null
  } finally {
    await client.close()
  }
}
