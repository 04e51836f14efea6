import { readdir, readFile, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils'
import type { MigrationList, SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg'
import * as bindings from '@prisma/schema-engine-wasm/schema_engine_bg'
import { PrismaPGlite } from 'pglite-prisma-adapter'

// Prisma's CLI only drives a native schema-engine binary that it downloads on first use, which these machines
// (and air-gapped deploys) cannot fetch. The wasm build of the same engine ships inside an npm package and talks
// to the database through a driver adapter, so migrations work wherever the app's own driver does.

/** A Prisma schema as the engine takes it: one entry per file, `[path, content]`. */
export type SchemaFiles = [path: string, content: string][]

/**
 * Reads a Prisma schema the way Prisma's CLI does: one file, or every `.prisma` file under a folder (a multi-file
 * schema, where an app's models sit beside the copied `upkit.prisma`). Sorted so diffs never depend on readdir order.
 */
export async function readSchemaFiles(schemaPath: string): Promise<SchemaFiles> {
  const path = resolve(schemaPath)
  if (!(await stat(path)).isDirectory()) return [[path, await readFile(path, 'utf8')]]
  const entries = await readdir(path, { recursive: true, withFileTypes: true })
  const files = entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.prisma'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort((a, b) => a.localeCompare(b))
  if (files.length === 0) throw new Error(`No .prisma file in the schema folder ${path}.`)
  return Promise.all(
    files.map(async (file): Promise<[string, string]> => [file, await readFile(file, 'utf8')]),
  )
}

/**
 * Applying migrations needs no models, only the connector: the SQL comes from the migration files. So a
 * database opens with just its migrations folder, whatever schema the app generated its client from.
 */
const migrationsOnlySchema: SchemaFiles = [
  ['migrations.prisma', 'datasource db {\n  provider = "postgresql"\n}\n'],
]

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
  schema: SchemaFiles,
  fn: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  await loadWasm()
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
  schema: SchemaFiles,
  factory: SqlMigrationAwareDriverAdapterFactory,
  fn: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const engine = await bindings.SchemaEngine.new(
    { datamodels: schema },
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

/**
 * Applies the migrations in `migrationsDir` that the database has not seen (recorded in Prisma's own
 * `_prisma_migrations` table, so `prisma migrate` sees the same history) and returns their names, oldest first.
 */
export async function applyMigrations(
  factory: SqlMigrationAwareDriverAdapterFactory,
  migrationsDir: string,
): Promise<string[]> {
  const migrationsList = await readMigrations(migrationsDir)
  const { appliedMigrationNames } = await withSchemaEngine(factory, migrationsOnlySchema, (engine) =>
    engine.applyMigrations({ migrationsList, filters: noExternalEntities }),
  )
  return appliedMigrationNames
}

/** Reads the migrations folder the way Prisma's CLI does (folders sorted by name, each with migration.sql). */
export async function readMigrations(migrationsDir: string): Promise<MigrationList> {
  const dir = resolve(migrationsDir)
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
 * SQL that would bring a database migrated with the migrations in `migrationsDir` up to the schema at
 * `schemaPath` (a file or a multi-file schema folder), or null when they match; an app's test asserts null so a
 * model change without its migration fails CI. Runs on throwaway in-memory PGlite: the engine replays the
 * migrations into a shadow database and diffs.
 */
export async function pendingSchemaChanges(
  schemaPath: string,
  migrationsDir: string,
): Promise<string | null> {
  const schema = await readSchemaFiles(schemaPath)
  const migrations = await readMigrations(migrationsDir)
  const client = new PGlite()
  try {
    // The wasm engine's `createMigration` insists on a shadow database URL it cannot use; `diff` from the
    // migrations folder uses the adapter's shadow database and renders the same SQL.
    const result = await withSchemaEngine(new PrismaPGlite(client), schema, (engine) =>
      engine.diff({
        // Without any migration there is no migration_lock.toml to tell the engine the connector yet.
        from:
          migrations.migrationDirectories.length === 0
            ? { tag: 'empty' }
            : { tag: 'migrations', ...migrations },
        to: { tag: 'schemaDatamodel', files: schema.map(([path, content]) => ({ path, content })) },
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
