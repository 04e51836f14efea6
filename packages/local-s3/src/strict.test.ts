import { createHash } from 'node:crypto'
import { Agent, type AgentOptions } from 'node:http'
import {
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetBucketCorsCommand,
  HeadObjectCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { parseCli } from './cli'
import { ALLOWED_ORIGIN, BUCKET, s3ErrorOf, startTestServer, type TestServer } from './test-server'

/** Adds the Content-MD5 the SDK stopped sending (it sends x-amz-checksum-crc32 instead) before signing. */
function withContentMd5(client: S3Client): S3Client {
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers: Record<string, string>; body?: unknown }
      if (typeof request.body === 'string') {
        request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64')
      }
      return next(args)
    },
    { step: 'build', priority: 'low', name: 'testContentMd5' },
  )
  return client
}

/**
 * A client addressing `<bucket>.localhost:<port>` (virtual-hosted style), every name resolving to 127.0.0.1: the
 * resolver here need not know `*.localhost`.
 */
function virtualHostClient(t: TestServer): S3Client {
  const lookup: AgentOptions['lookup'] = (_host, options, callback) => {
    if ((options as { all?: boolean }).all) callback(null, [{ address: '127.0.0.1', family: 4 }])
    else callback(null, '127.0.0.1', 4)
  }
  return t.makeClient({
    endpoint: `http://localhost:${t.server.port}`,
    forcePathStyle: false,
    requestHandler: { httpAgent: new Agent({ lookup }) },
  })
}

const deleteTwo = (client: S3Client) =>
  client.send(
    new DeleteObjectsCommand({
      Bucket: BUCKET,
      Delete: { Objects: [{ Key: 'a' }, { Key: 'b' }], Quiet: true },
    }),
  )

const cors = {
  Bucket: BUCKET,
  CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['http://x.test'], AllowedMethods: ['PUT'] }] },
}

/** `n` bytes of user metadata as AWS counts them: name `m` (1 byte) plus an n - 1 byte value. */
const metadataOf = (n: number) => ({ m: 'v'.repeat(n - 1) })

describe('default (AWS-like) mode', () => {
  let t: TestServer
  beforeAll(async () => {
    t = await startTestServer()
  })
  afterAll(() => t.stop())

  test('DeleteObjects without Content-MD5, the CORS API, virtual-hosted requests and 4 KiB of metadata all work', async () => {
    await expect(deleteTwo(t.client)).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } })
    await t.client.send(new PutBucketCorsCommand(cors))
    const rules = await t.client.send(new GetBucketCorsCommand({ Bucket: BUCKET }))
    expect(rules.CORSRules?.[0]?.AllowedOrigins).toEqual(['http://x.test'])

    const virtual = virtualHostClient(t)
    await virtual.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'dir/v.txt', Body: 'hi', Metadata: metadataOf(4096) }),
    )
    // Stored under the bucket from the Host, the whole path as the key: path style finds it there.
    const head = await t.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'dir/v.txt' }))
    expect(head.ContentLength).toBe(2)
  })
})

describe('strict mode', () => {
  let t: TestServer
  beforeAll(async () => {
    t = await startTestServer({ strict: true })
  })
  afterAll(() => t.stop())

  test('DeleteObjects is NotImplemented (501), as on GCS interop, with or without Content-MD5', async () => {
    expect(await s3ErrorOf(deleteTwo(t.client))).toEqual({ name: 'NotImplemented', status: 501 })
    expect(await s3ErrorOf(deleteTwo(withContentMd5(t.makeClient())))).toEqual({
      name: 'NotImplemented',
      status: 501,
    })
  })

  test('the bucket CORS API is NotImplemented (501), while the rules set "elsewhere" (options) still answer', async () => {
    expect(await s3ErrorOf(withContentMd5(t.makeClient()).send(new PutBucketCorsCommand(cors)))).toEqual({
      name: 'NotImplemented',
      status: 501,
    })
    expect(await s3ErrorOf(t.client.send(new GetBucketCorsCommand({ Bucket: BUCKET })))).toEqual({
      name: 'NotImplemented',
      status: 501,
    })
    const preflight = await fetch(`${t.server.endpoint}/${BUCKET}/k`, {
      method: 'OPTIONS',
      headers: { Origin: ALLOWED_ORIGIN, 'Access-Control-Request-Method': 'PUT' },
    })
    expect(preflight.status).toBe(200)
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN)
  })

  test('virtual-hosted-style requests are refused with a hint to use path style', async () => {
    const refused = await virtualHostClient(t)
      .send(new PutObjectCommand({ Bucket: BUCKET, Key: 'v.txt', Body: 'hi' }))
      .catch((error: unknown) => error)
    expect(refused).toMatchObject({ name: 'InvalidRequest', $metadata: { httpStatusCode: 400 } })
    expect((refused as Error).message).toMatch(/path-style/)
  })

  test('user metadata is capped at 2 KiB (names without x-amz-meta-, plus values) on PUT and multipart create', async () => {
    await t.client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'm', Body: 'x', Metadata: metadataOf(2048) }),
    )
    const tooLarge = { name: 'MetadataTooLarge', status: 400 }
    expect(
      await s3ErrorOf(
        t.client.send(
          new PutObjectCommand({ Bucket: BUCKET, Key: 'm2', Body: 'x', Metadata: metadataOf(2049) }),
        ),
      ),
    ).toEqual(tooLarge)
    expect(
      await s3ErrorOf(
        t.client.send(
          new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'm3', Metadata: metadataOf(2049) }),
        ),
      ),
    ).toEqual(tooLarge)
  })
})

test('one quirk at a time: only Content-MD5 required (Ceph RGW, Swift s3api), the CORS API still there', async () => {
  const t = await startTestServer({ strict: { requireContentMd5: true } })
  try {
    const refused = await deleteTwo(t.client).catch((error: unknown) => error)
    expect(refused).toMatchObject({
      name: 'InvalidRequest',
      message: 'Missing required header for this request: Content-MD5',
      $metadata: { httpStatusCode: 400 },
    })
    await expect(deleteTwo(withContentMd5(t.makeClient()))).resolves.toMatchObject({
      $metadata: { httpStatusCode: 200 },
    })
    expect(await s3ErrorOf(t.client.send(new PutBucketCorsCommand(cors)))).toEqual({
      name: 'InvalidRequest',
      status: 400,
    })
    await withContentMd5(t.makeClient()).send(new PutBucketCorsCommand(cors))
    await t.client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'm', Body: 'x', Metadata: metadataOf(4096) }),
    )
  } finally {
    await t.stop()
  }
})

test('--strict turns on every quirk, --strict-quirks / LOCAL_S3_STRICT pick some, unknown names are refused', () => {
  const env = { LOCAL_S3_ACCESS_KEY_ID: 'k', LOCAL_S3_SECRET_ACCESS_KEY: 's' }
  expect(parseCli([], env)).not.toHaveProperty('strict')
  expect(parseCli(['--strict'], env)).toMatchObject({ strict: true })
  expect(parseCli([], { ...env, LOCAL_S3_STRICT: 'true' })).toMatchObject({ strict: true })
  expect(parseCli(['--strict-quirks', 'noCorsApi,maxUserMetadataBytes'], env)).toMatchObject({
    strict: { noCorsApi: true, maxUserMetadataBytes: 2048 },
  })
  expect(parseCli([], { ...env, LOCAL_S3_STRICT: 'requirecontentmd5,noDeleteObjects' })).toMatchObject({
    strict: { requireContentMd5: true, noDeleteObjects: true },
  })
  expect(() => parseCli(['--strict-quirks', 'noAcl'], env)).toThrow(/invalid strict quirk: noAcl/)
})
