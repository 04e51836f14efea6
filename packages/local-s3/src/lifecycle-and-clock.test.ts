import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  DeleteBucketLifecycleCommand,
  GetBucketLifecycleConfigurationCommand,
  HeadBucketCommand,
  PutBucketLifecycleConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { afterEach, describe, expect, test } from 'vitest'
import { type LocalS3Options, type LocalS3Server, startLocalS3 } from './server'
import { s3ErrorOf } from './test-server'

const credentials = { accessKeyId: 'lifecycle-key', secretAccessKey: 'lifecycle-secret-0123456789' }
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function start(options: Partial<LocalS3Options> = {}, dir?: string) {
  const folder = dir ?? (await mkdtemp(join(tmpdir(), 'local-s3-lifecycle-')))
  const server: LocalS3Server = await startLocalS3({
    dir: folder,
    ...credentials,
    buckets: [{ name: 'uploads' }],
    ...options,
  })
  const client = new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
    // A wrong server clock must reach the test as an error: the SDK would otherwise correct its own clock and retry.
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
  cleanups.push(async () => {
    client.destroy()
    await server.close()
    if (dir === undefined) await rm(folder, { recursive: true, force: true })
  })
  return { server, client, dir: folder }
}

const abortRule = {
  ID: 'upkit-abort-incomplete-multipart',
  Filter: { Prefix: '' },
  Status: 'Enabled' as const,
  AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
}

describe('bucket lifecycle configuration', () => {
  test('a bucket has none until one is put; it is read back, kept across restarts and deleted', async () => {
    const { client, dir, server } = await start()
    expect(
      (await s3ErrorOf(client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'uploads' })))).name,
    ).toBe('NoSuchLifecycleConfiguration')
    await client.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'uploads',
        LifecycleConfiguration: {
          Rules: [
            abortRule,
            { ID: 'tmp', Filter: { Prefix: 'tmp/' }, Status: 'Enabled', Expiration: { Days: 7 } },
          ],
        },
      }),
    )
    const read = async (c: S3Client) =>
      (await c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'uploads' }))).Rules
    expect(await read(client)).toEqual([
      expect.objectContaining({
        ID: abortRule.ID,
        Status: 'Enabled',
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      }),
      expect.objectContaining({ ID: 'tmp', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 7 } }),
    ])

    await server.close()
    const again = await start({ buckets: [] }, dir)
    expect((await read(again.client))?.map((rule) => rule.ID)).toEqual([abortRule.ID, 'tmp'])
    await again.client.send(new DeleteBucketLifecycleCommand({ Bucket: 'uploads' }))
    expect((await s3ErrorOf(read(again.client))).name).toBe('NoSuchLifecycleConfiguration')
  })

  test('a rule without an action is refused, and so is one this server would not understand', async () => {
    const { client } = await start()
    const put = (rule: object) =>
      client.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: 'uploads',
          LifecycleConfiguration: { Rules: [{ Status: 'Enabled', Filter: { Prefix: '' }, ...rule }] },
        }),
      )
    expect(await s3ErrorOf(put({}))).toEqual({ name: 'InvalidRequest', status: 400 })
    expect(await s3ErrorOf(put({ Transitions: [{ Days: 30, StorageClass: 'GLACIER' }] }))).toEqual({
      name: 'NotImplemented',
      status: 501,
    })
  })

  test('rules given at start are the bucket configuration', async () => {
    const { client } = await start({
      buckets: [{ name: 'uploads', lifecycle: [{ abortIncompleteMultipartUploadDays: 2 }] }],
    })
    const output = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'uploads' }))
    expect(output.Rules?.[0]?.AbortIncompleteMultipartUpload).toEqual({ DaysAfterInitiation: 2 })
  })
})

describe('clockSkewMs', () => {
  test('a server 20 minutes ahead refuses header-signed requests as too skewed and dates its answers', async () => {
    const skew = 20 * 60_000
    const { client, server } = await start({ clockSkewMs: skew })
    expect(
      await s3ErrorOf(client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'uploads' }))),
    ).toEqual({ name: 'RequestTimeTooSkewed', status: 403 })
    const response = await fetch(`${server.endpoint}/uploads`)
    const date = Date.parse(response.headers.get('date') ?? '')
    expect(Math.abs(date - (Date.now() + skew))).toBeLessThan(5 * 60_000)
    expect(await response.text()).toContain('AccessDenied')
  })

  test('without a skew the same request succeeds and the Date header is the real time', async () => {
    const { client, server } = await start({})
    await client.send(new HeadBucketCommand({ Bucket: 'uploads' }))
    const date = Date.parse((await fetch(`${server.endpoint}/uploads`)).headers.get('date') ?? '')
    expect(Math.abs(date - Date.now())).toBeLessThan(5 * 60_000)
  })
})
