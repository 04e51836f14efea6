import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type LocalS3Options, startLocalS3 } from '@upkit/local-s3'
import { afterAll, describe, expect, it } from 'vitest'
import { browserUploadCors } from '../bucket-helpers'
import type { BucketStorage } from '../bucket-storage'
import { s3Presets } from '../presets'
import { createS3BucketStorage } from '../s3-bucket-storage'
import { formatReport } from './format-report'
import { conformanceChecks, runConformance } from './run-conformance'

const BUCKET = 'conformance'
const ORIGIN = 'http://app.example.test'
const credentials = { accessKeyId: 'conformance-key', secretAccessKey: 'conformance/secret+key=' }
const stops: (() => Promise<void>)[] = []

afterAll(async () => {
  for (const stop of stops) await stop()
})

async function localStorage(options: Partial<LocalS3Options>): Promise<BucketStorage> {
  const dir = await mkdtemp(join(tmpdir(), 'upkit-conformance-'))
  const server = await startLocalS3({ dir, ...credentials, buckets: [{ name: BUCKET }], ...options })
  stops.push(async () => {
    await server.close()
    await rm(dir, { recursive: true, force: true })
  })
  return createS3BucketStorage(s3Presets.local({ endpoint: server.endpoint, bucket: BUCKET, credentials }))
}

async function objectsLeft(storage: BucketStorage): Promise<number> {
  let count = 0
  for await (const _ of storage.list({ prefix: '' })) count++
  return count + (await storage.listMultipartUploads()).length
}

const statuses = (results: Awaited<ReturnType<typeof runConformance>>) =>
  Object.fromEntries(
    results.map((r) => [r.check.id, r.note === undefined ? r.status : `${r.status}: ${r.note}`]),
  )

const allPass = Object.fromEntries(conformanceChecks.map((check) => [check.id, 'pass']))

describe('the storage contract on the local S3 server', () => {
  it('passes every check in the default (AWS-like) mode, CORS set through the API, and leaves nothing behind', async () => {
    const storage = await localStorage({})
    const results = await runConformance({ storage, corsOrigin: ORIGIN, manageCors: true })
    expect(statuses(results), formatReport('default mode', results)).toEqual(allPass)
    expect(await objectsLeft(storage)).toBe(0)
  })

  it('passes in strict mode (Content-MD5 required, no DeleteObjects, no CORS API, path style only, 2 KiB metadata): the CORS API is a handled warning', async () => {
    // No CORS API: the rules are set "in the console", i.e. in the server's options.
    const storage = await localStorage({
      strict: true,
      buckets: [{ name: BUCKET, cors: browserUploadCors([ORIGIN]) }],
    })
    const results = await runConformance({ storage, corsOrigin: ORIGIN, manageCors: true })
    const byId = statuses(results)
    expect(byId['cors-api']).toMatch(/^warn: .*has no bucket CORS API.*console/)
    expect({ ...byId, 'cors-api': 'pass' }, formatReport('strict mode', results)).toEqual(allPass)
    expect(await objectsLeft(storage)).toBe(0)
  })
})

describe('the suite reports what a provider lacks', () => {
  it('fails the conditional-write check where If-None-Match is ignored, and says what that means', async () => {
    const storage = await localStorage({ conditionalWrites: 'ignore' })
    const results = await runConformance({ storage, only: ['conditional-write', 'presigned-put'] })
    expect(statuses(results)).toEqual({
      'presigned-put': 'pass',
      'conditional-write': 'fail: a second PUT to the same key answered 200, expected 412',
    })
    const report = formatReport('lenient', results)
    expect(report).toContain('FAIL conditional-write')
    expect(report).toContain('means: ')
    expect(report).toContain('1 passed, 0 handled by upkit (warn), 1 failed, 0 skipped')
  })

  it("skips the CORS checks without an origin, and never touches a bucket's CORS rules unless allowed", async () => {
    const storage = await localStorage({ strict: { noCorsApi: true } })
    const results = await runConformance({ storage, only: ['cors-api', 'cors-headers'] })
    expect(results.map((r) => r.status)).toEqual(['skip', 'skip'])
    const allowedOrigin = await runConformance({ storage, corsOrigin: ORIGIN, only: ['cors-headers'] })
    // The bucket allows no origin: the preflight fails, and the note says so.
    expect(statuses(allowedOrigin)['cors-headers']).toMatch(
      /^fail: preflight for http:\/\/app\.example\.test/,
    )
  })
})
