import { parseArgs } from 'node:util'
import {
  DOCTOR_CHECK_IDS,
  type DoctorCheckId,
  formatDoctorReport,
  runBucketDoctor,
  storageConfigFromEnv,
} from '@upkit/storage'

export const DOCTOR_USAGE = `Usage: upkit doctor [--origin URL] [--json] [options]

Checks the app's bucket end to end the way upkit uses it and prints a table (check, status, detail) with a fix
under each problem: credentials and region, clock skew, CORS for the app's origin (preflight, ETag exposed),
signed Content-Length enforced, a multipart round trip, conditional writes, batch delete, and the lifecycle rule
that aborts incomplete multipart uploads.

  --origin URL               the origin browsers upload from, for the CORS check; default $PUBLIC_URL
  --only CHECKS              comma-separated checks to run (${DOCTOR_CHECK_IDS.join(', ')}); default all
  --timeout SECONDS          time each check may take (default 30)
  --json                     print the report as JSON
  --source MODULE            accepted (so \`pnpm upkit doctor\` works) and not used: the doctor needs no database

The bucket is the app's, read from the same environment the app reads it from: S3_ENDPOINT, S3_REGION, S3_BUCKET,
S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_FORCE_PATH_STYLE, S3_PROVIDER. The checks write and delete a few
objects (one multipart upload of 5 MiB) under upkit-doctor/.
Exit code: 0 when no check failed (warnings allowed), 1 when any failed, 2 on bad usage or configuration.`

export interface DoctorIo {
  stdout: { write(text: string): unknown }
  stderr: { write(text: string): unknown }
  env: NodeJS.ProcessEnv
}

/** `upkit doctor ...` (argv without the command name). */
export async function runDoctorCommand(argv: string[], io: DoctorIo): Promise<number> {
  let values: ReturnType<typeof parse>['values']
  try {
    const parsed = parse(argv)
    if (parsed.positionals.length > 0)
      throw new Error(`Unexpected arguments: ${parsed.positionals.join(' ')}`)
    values = parsed.values
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n\n${DOCTOR_USAGE}\n`)
    return 2
  }
  if (values.help) {
    io.stdout.write(`${DOCTOR_USAGE}\n`)
    return 0
  }
  const problems: string[] = []
  const config = storageConfigFromEnv(io.env)
  if (!config.ok) problems.push(...config.errors)
  const origin = originOption(values.origin ?? io.env.PUBLIC_URL, values.origin === undefined, problems)
  const only = values.only?.split(',').map((id) => id.trim())
  const unknown = only?.filter((id) => !(DOCTOR_CHECK_IDS as readonly string[]).includes(id)) ?? []
  if (unknown.length > 0)
    problems.push(`--only: unknown checks ${unknown.join(', ')} (known: ${DOCTOR_CHECK_IDS.join(', ')})`)
  const timeout = values.timeout === undefined ? 30 : Number(values.timeout)
  if (!Number.isInteger(timeout) || timeout < 1)
    problems.push(`--timeout must be a whole number of seconds, got '${values.timeout}'`)
  if (problems.length > 0 || !config.ok) {
    io.stderr.write(`${problems.join('\n')}\n\n${DOCTOR_USAGE}\n`)
    return 2
  }
  let report: Awaited<ReturnType<typeof runBucketDoctor>>
  try {
    report = await runBucketDoctor(config.config, {
      origin,
      timeoutMs: timeout * 1000,
      ...(only === undefined ? {} : { only: only as DoctorCheckId[] }),
    })
  } catch (error) {
    // Each check catches its own failures; this is the doctor itself failing (e.g. no credentials in the SDK chain).
    io.stderr.write(`upkit doctor failed: ${error instanceof Error ? error.message : String(error)}\n`)
    return 1
  }
  io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorReport(report))
  return report.ok ? 0 : 1
}

/** scheme://host[:port]; a PUBLIC_URL with a path counts by its origin, an explicit --origin must be one. */
function originOption(raw: string | undefined, fromEnv: boolean, problems: string[]): string | undefined {
  if (raw === undefined || raw === '') return undefined
  try {
    const url = new URL(raw)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme')
    if (!fromEnv && url.origin !== raw.replace(/\/$/, '')) throw new Error('path')
    return url.origin
  } catch {
    problems.push(
      `${fromEnv ? 'PUBLIC_URL' : '--origin'} must be an origin such as https://app.example.com, got '${raw}'`,
    )
    return undefined
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      origin: { type: 'string' },
      only: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
      source: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}
