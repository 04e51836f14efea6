import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type LocalS3Quirks, type LocalS3Server, STRICT_QUIRKS, startLocalS3 } from '@upkit/local-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { browserUploadCors } from './bucket-helpers'
import type { BucketStorage } from './bucket-storage'
import { s3Presets } from './presets'
import { createS3BucketStorage, type S3Credentials } from './s3-bucket-storage'

const BUCKET = 'quirks'
const ORIGIN = 'http://app.example.test'
/** Swift's s3api names keys `account:user`; AWS-style secrets are base64-like, so `+`, `/` and `=` are usual. */
const ODD_CREDENTIALS: S3Credentials = {
  accessKeyId: 'tenant:user+1=',
  secretAccessKey: 'Se+cr/et=Key/with+odd==chars/0123456789',
}

const servers: { server: LocalS3Server; dir: string }[] = []
async function serve(strict: boolean | LocalS3Quirks, credentials: S3Credentials): Promise<LocalS3Server> {
  const dir = await mkdtemp(join(tmpdir(), 'upkit-quirks-'))
  const server = await startLocalS3({ dir, ...credentials, strict, buckets: [{ name: BUCKET }] })
  servers.push({ server, dir })
  return server
}

afterAll(async () => {
  for (const { server, dir } of servers) {
    await server.close()
    await rm(dir, { recursive: true, force: true })
  }
})

const keysOf = async (storage: BucketStorage, prefix: string) => {
  const keys: string[] = []
  for await (const object of storage.list({ prefix })) keys.push(object.key)
  return keys
}

async function putMany(storage: BucketStorage, keys: readonly string[]) {
  const body = new Uint8Array([1])
  for (let i = 0; i < keys.length; i += 32) {
    await Promise.all(
      keys
        .slice(i, i + 32)
        .map((key) => storage.putObject({ key, body, contentType: 'text/plain', contentLength: 1 })),
    )
  }
}

describe('on a strict server with DeleteObjects (Content-MD5 required, no CORS API, path style only, 2 KiB metadata)', () => {
  let storage: BucketStorage
  beforeAll(async () => {
    const server = await serve(
      { ...STRICT_QUIRKS, noDeleteObjects: false },
      { accessKeyId: 'k', secretAccessKey: 's' },
    )
    storage = createS3BucketStorage(
      s3Presets.local({
        endpoint: server.endpoint,
        bucket: BUCKET,
        credentials: { accessKeyId: 'k', secretAccessKey: 's' },
      }),
    )
  })

  it('deleteObjects sends Content-MD5, in both batches of 1001 keys', async () => {
    const keys = Array.from({ length: 1001 }, (_, i) => `batch/${String(i).padStart(4, '0')}`)
    await putMany(storage, keys)
    expect(await keysOf(storage, 'batch/')).toHaveLength(1001)
    await storage.deleteObjects([...keys, 'batch/never-existed'])
    expect(await keysOf(storage, 'batch/')).toEqual([])
  })

  it('ensureBucket resolves with a message to set CORS in the console instead of failing', async () => {
    const result = await storage.ensureBucket({ cors: browserUploadCors([ORIGIN]) })
    expect(result).toEqual({ cors: 'unsupported', message: expect.stringContaining("provider's console") })
    if (result.cors !== 'unsupported') throw new Error('unreachable')
    expect(result.message).toContain(ORIGIN)
    expect(result.message).toContain('exposed: ETag')
    await expect(storage.ensureBucket()).resolves.toEqual({ cors: 'unchanged' })
  })

  it('2 KiB of metadata is signed and stored; more is refused before signing, with a RangeError', async () => {
    const fits = { m: 'v'.repeat(2047) }
    const put = await storage.presignPut({
      key: 'meta/fits',
      contentType: 'text/plain',
      contentLength: 1,
      expiresInSeconds: 60,
      metadata: fits,
    })
    expect((await fetch(put.url, { method: 'PUT', headers: put.headers, body: 'x' })).status).toBe(200)
    const tooMuch = { m: 'v'.repeat(2048) }
    await expect(
      storage.presignPut({
        key: 'meta/big',
        contentType: 'text/plain',
        contentLength: 1,
        expiresInSeconds: 60,
        metadata: tooMuch,
      }),
    ).rejects.toThrow(RangeError)
    await expect(
      storage.createMultipartUpload({ key: 'meta/big', contentType: 'text/plain', metadata: tooMuch }),
    ).rejects.toThrow(/2049 bytes.*at most 2048/)
  })
})

it('DeleteObjects and PutBucketCors carry a signed Content-MD5 of their body and none of the SDK checksum headers', async () => {
  // A bare HTTP server records the requests as sent: the local S3 server would accept the CRC32 headers too.
  const seen: { url: string; headers: IncomingHttpHeaders; md5: string }[] = []
  const recorder = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const md5 = createHash('md5').update(Buffer.concat(chunks)).digest('base64')
      seen.push({ url: req.url ?? '', headers: req.headers, md5 })
      res.writeHead(200, { 'content-type': 'application/xml' }).end('<DeleteResult></DeleteResult>')
    })
  })
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve))
  try {
    const storage = createS3BucketStorage({
      bucket: BUCKET,
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`,
      forcePathStyle: true,
      credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    })
    await storage.deleteObjects(['a', 'b'])
    await storage.ensureBucket({ cors: browserUploadCors([ORIGIN]) })
    const writes = seen.filter((request) => /[?&](delete|cors)=?(&|$)/.test(request.url))
    expect(writes.map((request) => request.url.split('?')[1])).toEqual(['delete=', 'cors='])
    for (const { headers, md5 } of writes) {
      expect(headers['content-md5']).toBe(md5)
      expect(headers.authorization).toMatch(/SignedHeaders=[^,]*content-md5/)
      expect(Object.keys(headers).filter((name) => name.includes('checksum'))).toEqual([])
    }
  } finally {
    await new Promise((resolve) => recorder.close(resolve))
  }
})

it('deleteObjects falls back to one DELETE per key where DeleteObjects is NotImplemented (GCS interop)', async () => {
  const server = await serve({ noDeleteObjects: true }, { accessKeyId: 'k', secretAccessKey: 's' })
  const storage = createS3BucketStorage(
    s3Presets.local({
      endpoint: server.endpoint,
      bucket: BUCKET,
      credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    }),
  )
  for (const round of [1, 2]) {
    const keys = Array.from({ length: 20 }, (_, i) => `single/${round}/${i}`)
    await putMany(storage, keys)
    await storage.deleteObjects([...keys, `single/${round}/never-existed`])
    expect(await keysOf(storage, `single/${round}/`)).toEqual([])
  }
})

it('ensureBucket reports CORS applied where the API exists, unchanged when none is given', async () => {
  const server = await serve(false, { accessKeyId: 'k', secretAccessKey: 's' })
  const storage = createS3BucketStorage(
    s3Presets.local({
      endpoint: server.endpoint,
      bucket: BUCKET,
      credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    }),
  )
  await expect(storage.ensureBucket({ cors: browserUploadCors([ORIGIN]) })).resolves.toEqual({
    cors: 'applied',
  })
  await expect(storage.ensureBucket()).resolves.toEqual({ cors: 'unchanged' })
})

describe.each([
  { name: 'hand-signed writes', directWrites: true },
  { name: 'SDK writes', directWrites: false },
])('credentials with `:`, `+`, `/` and `=` sign correctly ($name)', ({ directWrites }) => {
  let storage: BucketStorage
  beforeAll(async () => {
    const server = await serve(true, ODD_CREDENTIALS)
    storage = createS3BucketStorage({
      ...s3Presets.local({ endpoint: server.endpoint, bucket: BUCKET, credentials: ODD_CREDENTIALS }),
      directWrites,
    })
  })

  it('for server-side calls, presigned PUT/GET and multipart', async () => {
    const prefix = `odd-${directWrites}/`
    await storage.checkBucket()
    await storage.putObject({
      key: `${prefix}a`,
      body: new Uint8Array([1, 2]),
      contentType: 'x/y',
      contentLength: 2,
    })
    const put = await storage.presignPut({
      key: `${prefix}b`,
      contentType: 'x/y',
      contentLength: 3,
      expiresInSeconds: 60,
    })
    expect((await fetch(put.url, { method: 'PUT', headers: put.headers, body: 'abc' })).status).toBe(200)
    const get = await storage.presignGet({ key: `${prefix}b`, expiresInSeconds: 60 })
    expect(await (await fetch(get)).text()).toBe('abc')
    const { uploadId } = await storage.createMultipartUpload({ key: `${prefix}c`, contentType: 'x/y' })
    const { etag } = await storage.uploadPart({
      key: `${prefix}c`,
      uploadId,
      partNumber: 1,
      body: new Uint8Array([9]),
      contentLength: 1,
    })
    await storage.completeMultipartUpload({ key: `${prefix}c`, uploadId, parts: [{ partNumber: 1, etag }] })
    expect(await keysOf(storage, prefix)).toEqual([`${prefix}a`, `${prefix}b`, `${prefix}c`])
    await storage.deleteObjects([`${prefix}a`, `${prefix}b`, `${prefix}c`])
    expect(await keysOf(storage, prefix)).toEqual([])
  })
})
