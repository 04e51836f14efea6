import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type LocalS3Options, startLocalS3 } from '@upkit/local-s3'
import { browserUploadCors } from '@upkit/storage'
import { afterEach, describe, expect, test } from 'vitest'
import { main } from './cli'

const ORIGIN = 'http://localhost:3000'
const BIN = fileURLToPath(new URL('../bin/upkit.mjs', import.meta.url))
const credentials = { accessKeyId: 'doctor-cli-key', secretAccessKey: 'doctor-cli-secret-0123456789' }
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A real local S3 server, configured as upkit wants unless a test overrides it, and the S3_* env naming it. */
async function bucketEnv(options: Partial<LocalS3Options> = {}): Promise<NodeJS.ProcessEnv> {
  const dir = await mkdtemp(join(tmpdir(), 'upkit-doctor-cli-'))
  const server = await startLocalS3({
    dir,
    ...credentials,
    buckets: [
      {
        name: 'uploads',
        cors: browserUploadCors([ORIGIN]),
        lifecycle: [{ abortIncompleteMultipartUploadDays: 1 }],
      },
    ],
    ...options,
  })
  cleanups.push(async () => {
    await server.close()
    await rm(dir, { recursive: true, force: true })
  })
  return {
    S3_PROVIDER: 'local',
    S3_ENDPOINT: server.endpoint,
    S3_BUCKET: 'uploads',
    S3_ACCESS_KEY_ID: credentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  }
}

async function run(argv: string[], env: NodeJS.ProcessEnv) {
  let stdout = ''
  let stderr = ''
  const code = await main(argv, {
    env,
    cwd: process.cwd(),
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  })
  return { code, stdout, stderr }
}

describe('upkit doctor', () => {
  test('a well-configured bucket: an aligned table of 8 ok rows and exit 0', async () => {
    const env = await bucketEnv()
    const { code, stdout, stderr } = await run(['doctor', '--origin', ORIGIN], env)
    expect(stderr).toBe('')
    expect(code).toBe(0)
    const rows = stdout.split('\n').filter((line) => /\s{2}(ok|WARN|FAIL)\s{2}/.test(line))
    expect(rows).toHaveLength(8)
    expect(rows.every((row) => row.includes('  ok  '))).toBe(true)
    // Aligned: every row's status starts in the same column as the header's.
    const column = stdout
      .split('\n')
      .find((line) => line.startsWith('check'))
      ?.indexOf('status')
    expect(rows.map((row) => row.search(/ ok /) + 1)).toEqual(rows.map(() => column))
    expect(stdout).toContain(`CORS for ${ORIGIN}`)
    expect(stdout).toContain('8 ok, 0 warning(s), 0 failed: the bucket is ready for upkit')
  })

  test('a misconfigured bucket (no CORS, clock 20 minutes off): each problem named with its fix, exit 1', async () => {
    const env = await bucketEnv({ buckets: [{ name: 'uploads' }], clockSkewMs: -20 * 60_000 })
    const { code, stdout } = await run(['doctor', '--origin', ORIGIN], env)
    expect(code).toBe(1)
    expect(stdout).toMatch(/clock skew\s+FAIL\s+this machine is 20 min ahead of the bucket's clock/)
    expect(stdout).toMatch(/CORS for http:\/\/localhost:3000\s+FAIL\s+preflight for PUT/)
    expect(stdout).toContain("fix: Set this machine's clock by NTP")
    expect(stdout).toContain(`fix: Add a CORS rule: AllowedOrigins [${ORIGIN}]`)
    // Every signed request is refused while the clock is off, and each says so rather than blaming its own step.
    expect(stdout).toMatch(
      /lifecycle: abort incomplete multipart\s+FAIL\s+GetBucketLifecycleConfiguration: 403 RequestTimeTooSkewed/,
    )
    // Presigned URLs are refused as "not valid yet" then: the fix is the clock, not the key's permissions.
    expect(stdout).toMatch(
      /signed Content-Length enforced\s+FAIL\s+presigned PUT of the signed size: 403 AccessDenied: Request is not valid yet\n\s+fix: Set this machine's clock by NTP/,
    )
    expect(stdout).not.toContain('not allowed this operation')
    if (process.env.UPKIT_DOCTOR_SHOW) console.log(stdout)
  })

  test('a wrong secret through the real bin: the fix names S3_SECRET_ACCESS_KEY, exit code 1; --json is the report', async () => {
    const env = await bucketEnv()
    const child = spawn(
      process.execPath,
      [BIN, '--source', 'ignored.ts', 'doctor', '--json', '--only', 'credentials,lifecycle'],
      {
        env: { ...process.env, ...env, S3_SECRET_ACCESS_KEY: 'wrong-secret-0123456789' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(code).toBe(1)
    const report = JSON.parse(stdout) as {
      ok: boolean
      checks: { id: string; status: string; fix: string }[]
    }
    expect(report.ok).toBe(false)
    expect(report.checks.map((check) => [check.id, check.status])).toEqual([
      ['credentials', 'fail'],
      ['lifecycle', 'fail'],
    ])
    expect(report.checks[0]?.fix).toContain('S3_SECRET_ACCESS_KEY does not belong to S3_ACCESS_KEY_ID')
  })

  test('warnings alone exit 0: no origin given and no lifecycle rule', async () => {
    const env = await bucketEnv({ buckets: [{ name: 'uploads' }] })
    const { code, stdout } = await run(['doctor'], env)
    expect(code).toBe(0)
    expect(stdout).toMatch(/CORS\s+WARN\s+not checked: no origin given/)
    expect(stdout).toContain('6 ok, 2 warning(s), 0 failed')
  })

  test('bad usage and a missing bucket configuration exit 2 with every problem and the usage', async () => {
    const missing = await run(['doctor', '--origin', 'localhost:3000', '--only', 'cors,nope'], {})
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('S3_BUCKET is required')
    expect(missing.stderr).toContain(
      "--origin must be an origin such as https://app.example.com, got 'localhost:3000'",
    )
    expect(missing.stderr).toContain('--only: unknown checks nope')
    expect(missing.stderr).toContain('Usage: upkit doctor')
    expect((await run(['doctor', '--frobnicate'], {})).code).toBe(2)
    const help = await run(['doctor', '--help'], {})
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Exit code: 0 when no check failed')
  })
})
