import { existsSync, readFileSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { formatBytes } from '@upkit/core'
import { createDatabase } from '@upkit/db'
import { startLocalS3 } from '@upkit/local-s3'
import { type BucketStorage, createS3BucketStorage, s3Presets, storageConfigFromEnv } from '@upkit/storage'
import { type MigrationReport, migrateUploads } from './migrate-uploads'
import { createProgressRenderer } from './progress'

const USAGE = `Usage: upkit migrate --uploads-dir DIR [options]

Copies the files a legacy app kept in ./uploads into the bucket and rewrites the rows that pointed at them.

  --uploads-dir DIR          the legacy uploads folder (required)
  --dry-run                  print the plan; change nothing
  --delete-source            delete each source file once its copy is verified and committed
  --concurrency N            files copied at once (default 8)
  --batch-size N             rows written per transaction (default 200)
  --log-every N              without a terminal, log progress every N files (default 500) or 5 s
  --json                     print the report as JSON

Configuration comes from the app's environment: DATABASE_URL (PostgreSQL), else the PGlite folder
$UPKIT_DATA_DIR/db (default .data/db); S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_REGION,
S3_PROVIDER, S3_FORCE_PATH_STYLE. Without S3_* variables, the demo's embedded bucket in $UPKIT_DATA_DIR/s3 is used.
Exit code: 0 when every row was migrated (or already was), 1 when any failed, 2 on bad usage.`

// The demo's embedded defaults (apps/demo/src/server/app.ts); repeated because apps are not importable.
const DEMO_LOCAL_BUCKET = 'upkit'
const DEMO_LOCAL_ACCESS_KEY_ID = 'upkit-local'

interface Io {
  stdout: NodeJS.WriteStream | { write(text: string): unknown; isTTY?: boolean; columns?: number }
  stderr: { write(text: string): unknown }
  env: NodeJS.ProcessEnv
  /** Where relative paths are resolved. */
  cwd: string
}

/** `upkit <command> ...`; returns the exit code. */
export async function main(argv: string[], io: Partial<Io> = {}): Promise<number> {
  const env = io.env ?? process.env
  const stdout = io.stdout ?? process.stdout
  const stderr = io.stderr ?? process.stderr
  // `pnpm upkit ...` runs us from the package folder; INIT_CWD is where the operator typed the command.
  const cwd = io.cwd ?? env.INIT_CWD ?? process.cwd()
  const [command, ...rest] = argv
  if (command !== 'migrate') {
    stderr.write(
      `${command === undefined || command === '--help' || command === '-h' ? '' : `Unknown command: ${command}\n\n`}${USAGE}\n`,
    )
    return command === '--help' || command === '-h' ? 0 : 2
  }
  let values: ReturnType<typeof parse>
  try {
    values = parse(rest)
  } catch (error) {
    stderr.write(`${(error as Error).message}\n\n${USAGE}\n`)
    return 2
  }
  if (values.help) {
    stdout.write(`${USAGE}\n`)
    return 0
  }
  const problems: string[] = []
  const uploadsDir = values['uploads-dir']
  if (uploadsDir === undefined) problems.push('--uploads-dir is required')
  const concurrency = intOption(values.concurrency, 8, '--concurrency', problems)
  const batchSize = intOption(values['batch-size'], 200, '--batch-size', problems)
  const logEvery = intOption(values['log-every'], 500, '--log-every', problems)
  if (problems.length > 0 || uploadsDir === undefined) {
    stderr.write(`${problems.join('\n')}\n\n${USAGE}\n`)
    return 2
  }
  const root = resolve(cwd, uploadsDir)
  if (!existsSync(root)) {
    stderr.write(`The uploads folder ${root} does not exist.\n`)
    return 2
  }

  const cleanups: (() => Promise<void>)[] = []
  try {
    const rawDataDir = env.UPKIT_DATA_DIR || '.data'
    const dataDir = isAbsolute(rawDataDir) ? rawDataDir : resolve(cwd, rawDataDir)
    const storage = await openStorage(env, dataDir, cleanups)
    const database = await createDatabase(
      env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : { dataDir: join(dataDir, 'db') },
    )
    cleanups.push(() => database.close())
    stderr.write(`database: ${database.describe}\nbucket: ${storage.description}\n`)

    const renderer = createProgressRenderer(stdout, { everyFiles: logEvery })
    const report = await migrateUploads({
      prisma: database.prisma,
      storage: storage.storage,
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
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      'uploads-dir': { type: 'string' },
      'dry-run': { type: 'boolean' },
      'delete-source': { type: 'boolean' },
      concurrency: { type: 'string' },
      'batch-size': { type: 'string' },
      'log-every': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values
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

async function openStorage(
  env: NodeJS.ProcessEnv,
  dataDir: string,
  cleanups: (() => Promise<void>)[],
): Promise<{ storage: BucketStorage; description: string }> {
  if (Object.keys(env).some((name) => name.startsWith('S3_') && env[name])) {
    const parsed = storageConfigFromEnv(env)
    if (!parsed.ok) throw new Error(`Invalid S3 configuration:\n  - ${parsed.errors.join('\n  - ')}`)
    return {
      storage: createS3BucketStorage(parsed.config),
      description: `${parsed.config.endpoint ?? parsed.config.region}/${parsed.config.bucket}`,
    }
  }
  const secretFile = join(dataDir, 'local-s3-secret')
  if (!existsSync(secretFile)) {
    throw new Error(
      `No S3_* variables are set and ${secretFile} does not exist (the demo's embedded bucket has never run). ` +
        'Set S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY.',
    )
  }
  const credentials = {
    accessKeyId: DEMO_LOCAL_ACCESS_KEY_ID,
    secretAccessKey: readFileSync(secretFile, 'utf8').trim(),
  }
  const server = await startLocalS3({ dir: join(dataDir, 's3'), ...credentials })
  cleanups.push(() => server.close())
  const storage = createS3BucketStorage(
    s3Presets.local({ endpoint: server.endpoint, bucket: DEMO_LOCAL_BUCKET, credentials }),
  )
  await storage.ensureBucket()
  return { storage, description: `embedded local-s3 in ${join(dataDir, 's3')}/${DEMO_LOCAL_BUCKET}` }
}

/** The human-readable end-of-run report. */
export function formatReport(report: MigrationReport): string {
  const lines: string[] = []
  const seconds = report.durationMs / 1000
  if (report.dryRun) {
    lines.push(`Dry run of ${report.uploadsDir} (nothing was changed):`)
    lines.push(
      `  would copy ${report.planned.files} files (${formatBytes(report.planned.bytes)}) and rewrite ` +
        `${report.planned.taskFiles} task file rows and ${report.planned.logos} company logos`,
    )
  } else {
    const rate = seconds > 0 ? report.migratedBytes / seconds / 1e6 : 0
    lines.push(`Migrated ${report.uploadsDir} in ${seconds.toFixed(1)} s:`)
    lines.push(
      `  migrated:       ${report.migrated} rows (${formatBytes(report.migratedBytes)}, ${rate.toFixed(1)} MB/s` +
        `${report.reusedObjects > 0 ? `; ${report.reusedObjects} objects already in the bucket from an interrupted run` : ''})`,
    )
  }
  lines.push(`  already done:   ${report.alreadyDone} rows (migrated by an earlier run)`)
  lines.push(`  missing on disk: ${report.missing.length} rows (left untouched)`)
  for (const missing of report.missing.slice(0, 20)) lines.push(`    ${missing.source}: ${missing.path}`)
  lines.push(`  orphans:        ${report.orphans.length} files no row points to (left untouched)`)
  for (const orphan of report.orphans.slice(0, 20)) lines.push(`    ${orphan}`)
  lines.push(`  symbolic links: ${report.symlinks.length} skipped (never followed)`)
  if (!report.dryRun && report.deletedSources > 0)
    lines.push(`  deleted:        ${report.deletedSources} source files`)
  lines.push(`  failures:       ${report.failures.length}`)
  for (const failure of report.failures)
    lines.push(`    ${failure.source} (${failure.path}): ${failure.reason}`)
  const more = (list: unknown[]) => list.length > 20
  if (more(report.missing) || more(report.orphans)) lines.push('  (lists cut at 20; --json prints them all)')
  return `${lines.join('\n')}\n`
}
