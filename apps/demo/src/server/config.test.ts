import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from './config'

const load = (env: Record<string, string>) => loadConfig(env, '/srv/app')

describe('loadConfig', () => {
  it('starts on embedded defaults with no configuration', () => {
    const config = load({})
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      dataDir: '/srv/app/.data',
      databaseUrl: undefined,
      storage: undefined,
      publicUrl: 'http://127.0.0.1:3000',
      sweepIntervalMs: 15 * 60 * 1000,
      confirmGraceMs: undefined,
      createsPerMinute: undefined,
    })
  })

  it("takes a person's create calls per minute for load tests, keeping upkit's default when unset", () => {
    expect(load({ UPKIT_CREATES_PER_MINUTE: '100000' }).createsPerMinute).toBe(100_000)
    for (const bad of ['0', '-5', '2.5', 'lots']) {
      expect(() => load({ UPKIT_CREATES_PER_MINUTE: bad })).toThrow(
        `UPKIT_CREATES_PER_MINUTE must be a whole number of at least 1, got '${bad}'`,
      )
    }
  })

  it("takes the sweeper's confirm grace in milliseconds (0 allowed), for tests that cannot wait a minute", () => {
    expect(load({ UPKIT_CONFIRM_GRACE_MS: '1500' }).confirmGraceMs).toBe(1500)
    expect(load({ UPKIT_CONFIRM_GRACE_MS: '0' }).confirmGraceMs).toBe(0)
    for (const bad of ['-1', '1.5', 'soon']) {
      expect(() => load({ UPKIT_CONFIRM_GRACE_MS: bad })).toThrow(
        `UPKIT_CONFIRM_GRACE_MS must be a whole number of milliseconds, got '${bad}'`,
      )
    }
  })

  it('reports every bad value at once, one message each', () => {
    let error: unknown
    try {
      load({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://db/app',
        S3_FORCE_PATH_STYLE: 'yes',
        SESSION_SECRET: 'short',
        UPKIT_SWEEP_INTERVAL_SECONDS: '0',
      })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    const problems = (error as ConfigError).problems
    expect(problems).toContain("PORT must be a port number from 0 to 65535, got 'eighty'")
    expect(problems).toContain('DATABASE_URL must be a postgres:// or postgresql:// URL')
    expect(problems).toContain('SESSION_SECRET must be at least 32 characters')
    expect(problems).toContain("UPKIT_SWEEP_INTERVAL_SECONDS must be a whole number of seconds, got '0'")
    expect(problems.some((p) => p.startsWith('S3_FORCE_PATH_STYLE'))).toBe(true)
    expect(problems.join('\n')).not.toContain('short')
  })

  it('requires a session secret with an external database, so sessions survive a redeploy', () => {
    expect(() => load({ DATABASE_URL: 'postgresql://app@db:5432/app' })).toThrow(
      'SESSION_SECRET is required when DATABASE_URL is set',
    )
  })

  it('takes an external bucket from S3_* variables', () => {
    const config = load({
      S3_PROVIDER: 'minio',
      S3_ENDPOINT: 'http://minio.internal:9000',
      S3_BUCKET: 'uploads',
      S3_ACCESS_KEY_ID: 'key',
      S3_SECRET_ACCESS_KEY: 'secret',
      S3_FORCE_PATH_STYLE: 'true',
    })
    expect(config.storage).toMatchObject({
      bucket: 'uploads',
      endpoint: 'http://minio.internal:9000',
      forcePathStyle: true,
    })
  })
})
