import { isAbsolute, resolve } from 'node:path'
import { type S3StorageConfig, storageConfigFromEnv } from '@upkit/storage'

export interface DemoConfig {
  readonly port: number
  readonly host: string
  /** Where PGlite data, the embedded bucket and the session secret live (embedded defaults only). */
  readonly dataDir: string
  /** PostgreSQL when set; the embedded PGlite folder otherwise. */
  readonly databaseUrl: string | undefined
  /** An external S3-compatible bucket when set; the embedded local S3 server otherwise. */
  readonly storage: S3StorageConfig | undefined
  /** Port of the embedded local S3 server; 0 picks a free one. */
  readonly localS3Port: number
  readonly sessionSecret: string | undefined
  /** The origin browsers use to reach the app; the embedded bucket's CORS rules allow it. */
  readonly publicUrl: string
  /** How often abandoned uploads and orphan objects are swept. */
  readonly sweepIntervalMs: number
  /**
   * How long an upload's object must have been complete in the bucket before the sweeper confirms it for a browser
   * that never did (`createUpkit({ confirmGraceMs })`). Default `undefined`: upkit's own default (60 s), which
   * leaves a live tab time to confirm itself; tests set a short one (`UPKIT_CONFIRM_GRACE_MS`) so they need not wait.
   */
  readonly confirmGraceMs: number | undefined
  /**
   * `create` calls one person may make per minute (`createUpkit({ rateLimits })`). Default `undefined`: upkit's own
   * default (300), which no person dropping files reaches and a runaway script does. Load tests and `pnpm bench`
   * raise it (`UPKIT_CREATES_PER_MINUTE`) so a burst measures throughput, not the limit; the limit is still counted.
   */
  readonly createsPerMinute: number | undefined
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
  }
}

function parsePort(name: string, raw: string | undefined, fallback: number, problems: string[]): number {
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 0 || value > 65_535) {
    problems.push(`${name} must be a port number from 0 to 65535, got '${raw}'`)
    return fallback
  }
  return value
}

/** Reads and validates the environment, reporting every bad value at once rather than the first. */
export function loadConfig(env: NodeJS.ProcessEnv, cwd: string): DemoConfig {
  const problems: string[] = []
  const port = parsePort('PORT', env.PORT, 3000, problems)
  const localS3Port = parsePort('UPKIT_LOCAL_S3_PORT', env.UPKIT_LOCAL_S3_PORT, 0, problems)
  // Default 15 min: orphans are harmless for that long, and a sweep lists the bucket, which is not free.
  let sweepIntervalMs = 15 * 60 * 1000
  if (env.UPKIT_SWEEP_INTERVAL_SECONDS) {
    const seconds = Number(env.UPKIT_SWEEP_INTERVAL_SECONDS)
    if (!Number.isInteger(seconds) || seconds < 1) {
      problems.push(
        `UPKIT_SWEEP_INTERVAL_SECONDS must be a whole number of seconds, got '${env.UPKIT_SWEEP_INTERVAL_SECONDS}'`,
      )
    } else sweepIntervalMs = seconds * 1000
  }
  let confirmGraceMs: number | undefined
  if (env.UPKIT_CONFIRM_GRACE_MS) {
    const ms = Number(env.UPKIT_CONFIRM_GRACE_MS)
    if (!Number.isInteger(ms) || ms < 0) {
      problems.push(
        `UPKIT_CONFIRM_GRACE_MS must be a whole number of milliseconds, got '${env.UPKIT_CONFIRM_GRACE_MS}'`,
      )
    } else confirmGraceMs = ms
  }
  let createsPerMinute: number | undefined
  if (env.UPKIT_CREATES_PER_MINUTE) {
    const limit = Number(env.UPKIT_CREATES_PER_MINUTE)
    if (!Number.isInteger(limit) || limit < 1) {
      problems.push(
        `UPKIT_CREATES_PER_MINUTE must be a whole number of at least 1, got '${env.UPKIT_CREATES_PER_MINUTE}'`,
      )
    } else createsPerMinute = limit
  }
  const host = env.HOST || '127.0.0.1'
  const rawDataDir = env.UPKIT_DATA_DIR || '.data'
  const dataDir = isAbsolute(rawDataDir) ? rawDataDir : resolve(cwd, rawDataDir)

  let databaseUrl: string | undefined
  if (env.DATABASE_URL) {
    try {
      const url = new URL(env.DATABASE_URL)
      if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new Error('protocol')
      databaseUrl = env.DATABASE_URL
    } catch {
      problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL')
    }
  }

  let storage: S3StorageConfig | undefined
  const s3Vars = Object.keys(env).filter((name) => name.startsWith('S3_') && env[name])
  if (s3Vars.length > 0) {
    const parsed = storageConfigFromEnv(env)
    if (parsed.ok) storage = parsed.config
    else problems.push(...parsed.errors)
  }

  const sessionSecret = env.SESSION_SECRET || undefined
  if (sessionSecret !== undefined && sessionSecret.length < 32) {
    problems.push('SESSION_SECRET must be at least 32 characters')
  }
  if (databaseUrl && !sessionSecret) {
    // With an external database the app is meant to outlive its disk, so the secret cannot live on that disk.
    problems.push('SESSION_SECRET is required when DATABASE_URL is set (sessions must survive a redeploy)')
  }

  let publicUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`
  if (env.PUBLIC_URL) {
    try {
      publicUrl = new URL(env.PUBLIC_URL).origin
    } catch {
      problems.push(`PUBLIC_URL must be a URL, got '${env.PUBLIC_URL}'`)
    }
  }

  if (problems.length > 0) throw new ConfigError(problems)
  return {
    port,
    host,
    dataDir,
    databaseUrl,
    storage,
    localS3Port,
    sessionSecret,
    publicUrl,
    sweepIntervalMs,
    confirmGraceMs,
    createsPerMinute,
  }
}
