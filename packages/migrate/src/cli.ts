import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { runDoctorCommand } from './doctor-command'
import { migrateUploads } from './migrate-uploads'
import type { MigrationSetup, MigrationSetupFactory } from './migration-setup'
import { createProgressRenderer } from './progress'
import { formatReport } from './report'

const USAGE = `Usage: upkit migrate --source MODULE --uploads-dir DIR [options]

Copies the files a legacy app kept in ./uploads into the bucket and rewrites the rows that pointed at them.

  --source MODULE            the app's migration setup: a module (.ts or .js) whose default export is
                             defineMigrationSetup(async ({ env, cwd }) => ({ source, store, storage, routes, close }));
                             default $UPKIT_MIGRATE_SOURCE
  --uploads-dir DIR          the legacy uploads folder (required)
  --dry-run                  print the plan; change nothing
  --delete-source            delete each source file once its copy is verified and committed
  --concurrency N            files copied at once (default 8)
  --batch-size N             references written per transaction (default 1000)
  --log-every N              without a terminal, log progress every N files (default 500) or 5 s
  --json                     print the report as JSON

The database and the bucket are the app's: its setup module opens them from the environment.
Exit code: 0 when every reference was migrated (or already was), 1 when any failed, 2 on bad usage.

Other commands: upkit doctor (checks the bucket end to end; upkit doctor --help).`

interface Io {
  stdout: NodeJS.WriteStream | { write(text: string): unknown; isTTY?: boolean; columns?: number }
  stderr: { write(text: string): unknown }
  env: NodeJS.ProcessEnv
  /** Where relative paths are resolved. */
  cwd: string
}

/** `upkit <command> ...`; options may come before the command (a package script can put `--source` first). */
export async function main(argv: string[], io: Partial<Io> = {}): Promise<number> {
  const env = io.env ?? process.env
  const stdout = io.stdout ?? process.stdout
  const stderr = io.stderr ?? process.stderr
  // `pnpm upkit ...` runs us from the package folder; INIT_CWD is where the operator typed the command.
  const cwd = io.cwd ?? env.INIT_CWD ?? process.cwd()
  const first = commandOf(argv)
  if (first?.name === 'doctor') {
    return runDoctorCommand([...argv.slice(0, first.index), ...argv.slice(first.index + 1)], {
      stdout,
      stderr,
      env,
    })
  }
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (error) {
    stderr.write(`${(error as Error).message}\n\n${USAGE}\n`)
    return 2
  }
  const { values, positionals } = parsed
  const [command, ...extra] = positionals
  if (values.help) {
    stdout.write(`${USAGE}\n`)
    return 0
  }
  if (command !== 'migrate' || extra.length > 0) {
    const what = command === undefined ? '' : command !== 'migrate' ? `Unknown command: ${command}\n\n` : ''
    stderr.write(
      `${what || (extra.length > 0 ? `Unexpected arguments: ${extra.join(' ')}\n\n` : '')}${USAGE}\n`,
    )
    return 2
  }
  const problems: string[] = []
  const uploadsDir = values['uploads-dir']
  if (uploadsDir === undefined) problems.push('--uploads-dir is required')
  const sourceModule = values.source ?? env.UPKIT_MIGRATE_SOURCE
  if (!sourceModule) problems.push('--source is required (or set UPKIT_MIGRATE_SOURCE)')
  const concurrency = intOption(values.concurrency, 8, '--concurrency', problems)
  const batchSize = intOption(values['batch-size'], 1000, '--batch-size', problems)
  const logEvery = intOption(values['log-every'], 500, '--log-every', problems)
  if (problems.length > 0 || uploadsDir === undefined || !sourceModule) {
    stderr.write(`${problems.join('\n')}\n\n${USAGE}\n`)
    return 2
  }
  const root = resolve(cwd, uploadsDir)
  if (!existsSync(root)) {
    stderr.write(`The uploads folder ${root} does not exist.\n`)
    return 2
  }
  // Relative to where the operator typed; a package script's own path is relative to its package folder.
  const modulePath = [resolve(cwd, sourceModule), resolve(sourceModule)].find((path) => existsSync(path))
  if (modulePath === undefined) {
    stderr.write(`The setup module ${resolve(cwd, sourceModule)} does not exist.\n`)
    return 2
  }

  let setup: MigrationSetup<unknown> | undefined
  try {
    const loaded = (await import(pathToFileURL(modulePath).href)) as { default?: unknown }
    if (typeof loaded.default !== 'function')
      throw new Error(
        `${modulePath} must export a setup factory as its default export (defineMigrationSetup).`,
      )
    setup = await (loaded.default as MigrationSetupFactory)({ env, cwd })
    if (setup.describe?.database) stderr.write(`database: ${setup.describe.database}\n`)
    if (setup.describe?.bucket) stderr.write(`bucket: ${setup.describe.bucket}\n`)

    const renderer = createProgressRenderer(stdout, { everyFiles: logEvery })
    const report = await migrateUploads({
      source: setup.source,
      store: setup.store,
      storage: setup.storage,
      routes: setup.routes,
      ...(setup.keyPrefix === undefined ? {} : { keyPrefix: setup.keyPrefix }),
      hookContext: setup.hookContext,
      uploadsDir: root,
      dryRun: values['dry-run'] ?? false,
      deleteSource: values['delete-source'] ?? false,
      concurrency,
      batchSize,
      onProgress: (progress) => renderer.update(progress),
    })
    renderer.finish()
    stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report))
    return report.failures.length > 0 ? 1 : 0
  } catch (error) {
    stderr.write(`upkit migrate failed: ${error instanceof Error ? error.message : String(error)}\n`)
    return 1
  } finally {
    await setup?.close().catch(() => {})
  }
}

/** The first argument that is neither an option nor `--source`'s value (a package script puts `--source` first). */
function commandOf(argv: string[]): { name: string; index: number } | undefined {
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] as string
    if (arg === '--source') index++
    else if (!arg.startsWith('-')) return { name: arg, index }
  }
  return undefined
}

function parse(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      source: { type: 'string' },
      'uploads-dir': { type: 'string' },
      'dry-run': { type: 'boolean' },
      'delete-source': { type: 'boolean' },
      concurrency: { type: 'string' },
      'batch-size': { type: 'string' },
      'log-every': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}

function intOption(raw: string | undefined, fallback: number, name: string, problems: string[]): number {
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 1) {
    problems.push(`${name} must be a positive integer, got '${raw}'`)
    return fallback
  }
  return value
}
