import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { browserUploadCors } from '../bucket-helpers'
import { storageConfigFromEnv } from '../config'
import { s3Presets } from '../presets'
import { createS3BucketStorage } from '../s3-bucket-storage'
import { formatReport } from './format-report'
import { type ConformanceOptions, runConformance } from './run-conformance'

/** The variables `storageConfigFromEnv` reads: any of them set means "test this bucket", as the app would use it. */
const S3_VARIABLES = [
  'S3_ENDPOINT',
  'S3_REGION',
  'S3_BUCKET',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'S3_FORCE_PATH_STYLE',
  'S3_PROVIDER',
]
const LOCAL_ORIGIN = 'http://app.example.test'

/**
 * `pnpm test:storage`. With `S3_*` set: the checks against that bucket (configured exactly as the app reads it),
 * under a random prefix that is removed afterwards; its CORS rules are left alone unless
 * UPKIT_CONFORMANCE_SET_CORS=1, and the CORS headers are checked for UPKIT_CONFORMANCE_ORIGIN when given.
 * Without: against throwaway local S3 servers in default and strict modes. Exit code 1 when a check failed.
 */
export async function main(env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  const targeted = S3_VARIABLES.some((name) => (env[name]?.trim() ?? '') !== '')
  const ok = targeted ? await runAgainstEnv(env) : await runLocally()
  return ok ? 0 : 1
}

async function runAgainstEnv(env: Readonly<Record<string, string | undefined>>): Promise<boolean> {
  const parsed = storageConfigFromEnv(env)
  if (!parsed.ok) {
    console.error(`S3_* variables are incomplete:\n${parsed.errors.map((e) => `  - ${e}`).join('\n')}`)
    return false
  }
  const storage = createS3BucketStorage(parsed.config)
  const origin = env.UPKIT_CONFORMANCE_ORIGIN?.trim() || undefined
  return report(`upkit storage conformance: ${storage.describe}`, {
    storage,
    ...(origin === undefined ? {} : { corsOrigin: origin }),
    manageCors: env.UPKIT_CONFORMANCE_SET_CORS === '1',
  })
}

async function runLocally(): Promise<boolean> {
  console.log(
    'No S3_* variables set: running against throwaway local S3 servers (default and strict modes).\n',
  )
  // Imported here only: @upkit/local-s3 is a dev dependency, needed for this mode alone.
  const { startLocalS3 } = await import('@upkit/local-s3')
  let ok = true
  for (const strict of [false, true]) {
    const dir = await mkdtemp(join(tmpdir(), 'upkit-test-storage-'))
    const credentials = { accessKeyId: 'conformance', secretAccessKey: 'conformance/secret+key=' }
    // Strict mode has no CORS API: its rules are set "in the console", i.e. the server's options.
    const bucket = strict
      ? { name: 'conformance', cors: browserUploadCors([LOCAL_ORIGIN]) }
      : { name: 'conformance' }
    const server = await startLocalS3({ dir, ...credentials, strict, buckets: [bucket] })
    try {
      const storage = createS3BucketStorage(
        s3Presets.local({ endpoint: server.endpoint, bucket: 'conformance', credentials }),
      )
      const title = `upkit storage conformance: local S3, ${strict ? 'strict mode (Content-MD5 required, no DeleteObjects, no CORS API, path style only, 2 KiB metadata)' : 'default mode (like AWS)'}`
      ok = (await report(title, { storage, corsOrigin: LOCAL_ORIGIN, manageCors: true })) && ok
    } finally {
      await server.close()
      await rm(dir, { recursive: true, force: true })
    }
  }
  return ok
}

async function report(title: string, options: ConformanceOptions): Promise<boolean> {
  const results = await runConformance(options)
  console.log(`${formatReport(title, results)}\n`)
  return results.every((result) => result.status !== 'fail')
}
