import { mkdtemp, rm } from 'node:fs/promises'
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GetBucketLifecycleConfigurationCommand, S3Client } from '@aws-sdk/client-s3'
import { type LocalS3Options, startLocalS3 } from '@upkit/local-s3'
import { afterEach, describe, expect, test } from 'vitest'
import { browserUploadCors } from '../bucket-helpers'
import { s3Presets } from '../presets'
import { createS3BucketStorage } from '../s3-bucket-storage'
import { ensureAbortIncompleteMultipartRule } from './lifecycle-rule'
import { runBucketDoctor } from './run-bucket-doctor'
import type { DoctorCheckId, DoctorReport } from './types'

const ORIGIN = 'http://localhost:5173'
const credentials = { accessKeyId: 'doctor-key', secretAccessKey: 'doctor-secret-0123456789' }
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A real local S3 server; by default configured as upkit wants it (CORS for ORIGIN, the lifecycle rule). */
async function bucket(options: Partial<LocalS3Options> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'upkit-doctor-'))
  const server = await startLocalS3({
    dir,
    ...credentials,
    buckets: [
      {
        name: 'uploads',
        cors: browserUploadCors([ORIGIN]),
        lifecycle: [{ id: 'abort', abortIncompleteMultipartUploadDays: 1 }],
      },
    ],
    ...options,
  })
  cleanups.push(async () => {
    await server.close()
    await rm(dir, { recursive: true, force: true })
  })
  const config = s3Presets.local({ endpoint: server.endpoint, bucket: 'uploads', credentials })
  return { server, config }
}

const byId = (report: DoctorReport) => Object.fromEntries(report.checks.map((check) => [check.id, check]))
const statuses = (report: DoctorReport) =>
  Object.fromEntries(report.checks.map((check) => [check.id, check.status])) as Record<DoctorCheckId, string>

describe('runBucketDoctor', () => {
  test('a well-configured bucket is all green, and the doctor leaves no object or upload behind', async () => {
    const { config } = await bucket()
    const report = await runBucketDoctor(config, { origin: ORIGIN })
    expect(report.checks.filter((check) => check.status !== 'ok')).toEqual([])
    expect(report.ok).toBe(true)
    expect(report.checks.map((check) => check.id)).toEqual([
      'credentials',
      'clock',
      'cors',
      'content-length',
      'multipart',
      'conditional-write',
      'batch-delete',
      'lifecycle',
    ])
    expect(byId(report).multipart?.detail).toMatch(/ETag "[0-9a-f]+-2"/)
    expect(report.checks.every((check) => check.fix === '')).toBe(true)

    const storage = createS3BucketStorage(config)
    const left: string[] = []
    for await (const object of storage.list({ prefix: 'upkit-doctor/' })) left.push(object.key)
    expect(left).toEqual([])
    expect(await storage.listMultipartUploads({ prefix: 'upkit-doctor/' })).toEqual([])
  })

  test('no CORS: the CORS check fails naming the origin and the rule to add; the rest stays green', async () => {
    const { config } = await bucket({
      buckets: [{ name: 'uploads', lifecycle: [{ abortIncompleteMultipartUploadDays: 1 }] }],
    })
    const report = await runBucketDoctor(config, { origin: ORIGIN })
    expect(report.ok).toBe(false)
    const cors = byId(report).cors
    expect(cors).toMatchObject({ status: 'fail', title: `CORS for ${ORIGIN}` })
    expect(cors?.detail).toContain('preflight for PUT from http://localhost:5173 answered 403')
    expect(cors?.fix).toContain(`AllowedOrigins [${ORIGIN}]`)
    expect(cors?.fix).toContain('ExposeHeaders ETag')
    expect(report.checks.filter((check) => check.id !== 'cors').every((check) => check.status === 'ok')).toBe(
      true,
    )
  })

  test('CORS that allows the origin but does not expose ETag fails on the real PUT', async () => {
    const { config } = await bucket({
      buckets: [
        {
          name: 'uploads',
          cors: [
            {
              allowedOrigins: [ORIGIN],
              allowedMethods: ['PUT', 'POST'],
              allowedHeaders: ['*'],
              exposeHeaders: [],
            },
          ],
        },
      ],
    })
    const cors = byId(await runBucketDoctor(config, { origin: ORIGIN, only: ['cors'] })).cors
    expect(cors?.status).toBe('fail')
    expect(cors?.detail).toContain('does not expose ETag')
  })

  test('a bucket clock 20 minutes ahead: the clock check fails with the NTP fix', async () => {
    const { config } = await bucket({ clockSkewMs: 20 * 60_000 })
    const report = await runBucketDoctor(config, { origin: ORIGIN })
    expect(report.ok).toBe(false)
    const clock = byId(report).clock
    expect(clock?.status).toBe('fail')
    expect(clock?.detail).toMatch(/this machine is 20 min behind the bucket's clock/)
    expect(clock?.detail).toContain('RequestTimeTooSkewed')
    expect(clock?.fix).toContain('NTP')
    // Signed requests fail for the same reason, and say so instead of blaming the keys.
    expect(byId(report).credentials?.fix).toContain('NTP')
  })

  test('a wrong secret: the credentials check names SignatureDoesNotMatch and says to copy the secret again', async () => {
    const { config } = await bucket()
    const report = await runBucketDoctor(
      { ...config, credentials: { ...credentials, secretAccessKey: 'not-the-secret-0123456789' } },
      { origin: ORIGIN },
    )
    expect(report.ok).toBe(false)
    const check = byId(report).credentials
    expect(check?.status).toBe('fail')
    expect(check?.detail).toContain('403 SignatureDoesNotMatch')
    expect(check?.fix).toContain('S3_SECRET_ACCESS_KEY does not belong to S3_ACCESS_KEY_ID')
  })

  test('an unknown access key and a wrong region get their own fixes', async () => {
    const { config } = await bucket()
    const wrongKey = byId(
      await runBucketDoctor(
        { ...config, credentials: { ...credentials, accessKeyId: 'nobody' } },
        { only: ['credentials'] },
      ),
    ).credentials
    expect(wrongKey?.detail).toContain('InvalidAccessKeyId')
    expect(wrongKey?.fix).toContain('S3_ACCESS_KEY_ID is not a key this provider knows')
    const wrongRegion = byId(
      await runBucketDoctor({ ...config, region: 'eu-west-1' }, { only: ['credentials'] }),
    ).credentials
    expect(wrongRegion?.fix).toBe(
      "The bucket is in region 'us-east-1', not 'eu-west-1': set S3_REGION=us-east-1.",
    )
  })

  test('no lifecycle rule is a warning with the exact rule; ensureAbortIncompleteMultipartRule adds it, keeping other rules', async () => {
    const { config } = await bucket({
      buckets: [
        {
          name: 'uploads',
          cors: browserUploadCors([ORIGIN]),
          lifecycle: [{ id: 'tmp', prefix: 'tmp/', expirationDays: 7 }],
        },
      ],
    })
    const before = await runBucketDoctor(config, { origin: ORIGIN })
    expect(before.ok).toBe(true)
    expect(byId(before).lifecycle).toMatchObject({ status: 'warn' })
    expect(byId(before).lifecycle?.fix).toContain('lifecycle: [{ abortIncompleteMultipartUploadDays: 1 }]')

    expect(await ensureAbortIncompleteMultipartRule(config)).toBe('added')
    expect(await ensureAbortIncompleteMultipartRule(config)).toBe('present')
    const sdk = new S3Client({ ...config, requestChecksumCalculation: 'WHEN_REQUIRED' })
    const rules = (await sdk.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'uploads' }))).Rules
    sdk.destroy()
    expect(rules?.map((rule) => rule.ID)).toEqual(['tmp', 'upkit-abort-incomplete-multipart'])
    expect(rules?.[0]).toMatchObject({ Filter: { Prefix: 'tmp/' }, Expiration: { Days: 7 } })
    const after = byId(await runBucketDoctor(config, { only: ['lifecycle'] })).lifecycle
    expect(after).toMatchObject({ status: 'ok', fix: '' })
    expect(after?.detail).toContain(
      'upkit-abort-incomplete-multipart aborts incomplete multipart uploads after 1 day(s)',
    )
  })

  test('the AWS fix is the s3api command with the rule', async () => {
    const { config } = await bucket({ buckets: [{ name: 'uploads' }] })
    const lifecycle = byId(
      await runBucketDoctor({ ...config, provider: 'aws' }, { only: ['lifecycle'] }),
    ).lifecycle
    expect(lifecycle?.fix).toContain(
      `aws s3api put-bucket-lifecycle-configuration --bucket uploads --lifecycle-configuration '{"Rules":[{"ID":"upkit-abort-incomplete-multipart","Status":"Enabled","Filter":{"Prefix":""},"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":1}}]}'`,
    )
  })

  test('a provider without conditional writes is a warning that says what upkit does then', async () => {
    const { config } = await bucket({ conditionalWrites: 'ignore' })
    const report = await runBucketDoctor(config, { origin: ORIGIN })
    expect(report.ok).toBe(true)
    const check = byId(report)['conditional-write']
    expect(check?.status).toBe('warn')
    expect(check?.detail).toBe('a second PUT with If-None-Match: * replaced the existing object')
    expect(check?.fix).toContain('OBJECT_CHANGED')
  })

  test('batch delete sends Content-MD5 (a provider requiring it passes); a provider without DeleteObjects is a warning', async () => {
    const md5 = await bucket({ strict: { requireContentMd5: true } })
    expect(byId(await runBucketDoctor(md5.config, { only: ['batch-delete'] }))['batch-delete']).toMatchObject(
      {
        status: 'ok',
        detail: 'DeleteObjects (with Content-MD5) removed 2 objects in one request',
      },
    )
    const none = await bucket({ strict: { noDeleteObjects: true } })
    const report = await runBucketDoctor(none.config, { only: ['batch-delete'] })
    expect(report.ok).toBe(true)
    expect(report.checks[0]).toMatchObject({
      status: 'warn',
      fix: expect.stringContaining('one object per request'),
    })
    const left: string[] = []
    for await (const object of createS3BucketStorage(none.config).list({ prefix: 'upkit-doctor/' }))
      left.push(object.key)
    expect(left).toEqual([])
  })

  test('no origin: CORS is a warning asking for one; nothing else changes', async () => {
    const { config } = await bucket()
    const report = await runBucketDoctor(config)
    expect(statuses(report)).toMatchObject({ cors: 'warn', credentials: 'ok', multipart: 'ok' })
    expect(byId(report).cors?.fix).toContain('--origin')
  })

  test('an unreachable endpoint fails every check with the endpoint fix, within the timeout', async () => {
    const { config, server } = await bucket()
    await server.close()
    const report = await runBucketDoctor(config, { only: ['credentials', 'batch-delete'], timeoutMs: 20_000 })
    expect(report.checks.map((check) => check.status)).toEqual(['fail', 'fail'])
    expect(byId(report).credentials?.fix).toContain('Check S3_ENDPOINT')
  })

  test('a bucket that never answers fails each check as "no answer in time" once its timeout is up', async () => {
    const sockets = new Set<Socket>()
    const silent = createNetServer((socket) => sockets.add(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          silent.close(() => resolve())
          for (const socket of sockets) socket.destroy()
        }),
    )
    const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`
    const config = s3Presets.local({ endpoint, bucket: 'uploads', credentials })
    const report = await runBucketDoctor(config, { only: ['credentials', 'lifecycle'], timeoutMs: 300 })
    expect(report.checks.map((check) => [check.status, check.detail])).toEqual([
      ['fail', 'no answer in time'],
      ['fail', 'no answer in time'],
    ])
    expect(report.checks[0]?.fix).toContain('S3_ENDPOINT')
  })

  test('bad options are refused with a clear error', async () => {
    const { config } = await bucket()
    await expect(runBucketDoctor(config, { origin: 'localhost:3000/app' })).rejects.toThrow(TypeError)
    await expect(runBucketDoctor(config, { only: ['nope' as DoctorCheckId] })).rejects.toThrow(
      /Unknown doctor checks: nope/,
    )
    await expect(runBucketDoctor(config, { timeoutMs: 0 })).rejects.toThrow(RangeError)
  })
})
