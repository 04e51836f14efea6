import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketCorsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ALLOWED_ORIGIN, BUCKET, errorCode, s3ErrorOf, startTestServer, type TestServer } from './test-server'

let t: TestServer
beforeAll(async () => {
  t = await startTestServer()
})
afterAll(async () => {
  await t.stop()
})

describe('objects through the real SDK', () => {
  test('put, head, get and delete round-trip bytes and metadata', async () => {
    const key = 'dir/ünïcödé name (1) + more.txt'
    const body = Buffer.from('hello, private bucket')
    const put = await t.client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: key,
        Body: body,
        ContentType: 'text/plain',
        ContentDisposition: 'inline',
        Metadata: { owner: 'alice' },
      }),
    )
    const md5 = createHash('md5').update(body).digest('hex')
    expect(put.ETag).toBe(`"${md5}"`)

    const head = await t.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))
    expect(head.ContentLength).toBe(body.length)
    expect(head.ContentType).toBe('text/plain')
    expect(head.ContentDisposition).toBe('inline')
    expect(head.Metadata).toEqual({ owner: 'alice' })
    expect(head.ETag).toBe(`"${md5}"`)
    expect(head.LastModified).toBeInstanceOf(Date)

    const get = await t.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
    expect(Buffer.from(await (get.Body?.transformToByteArray() ?? []))).toEqual(body)
    expect(get.AcceptRanges).toBe('bytes')

    await t.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }))
    expect(await s3ErrorOf(t.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })))).toEqual({
      name: 'NotFound',
      status: 404,
    })
    expect(await s3ErrorOf(t.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key })))).toEqual({
      name: 'NoSuchKey',
      status: 404,
    })
    // Deleting a missing key is still a success, as in S3.
    const again = await t.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }))
    expect(again.$metadata.httpStatusCode).toBe(204)
  })

  test('an SDK with default checksums streams aws-chunked (STREAMING-UNSIGNED-PAYLOAD-TRAILER) bodies', async () => {
    const client = t.makeClient({
      requestChecksumCalculation: 'WHEN_SUPPORTED',
      responseChecksumValidation: 'WHEN_SUPPORTED',
    })
    let sentHash: string | undefined
    client.middlewareStack.add(
      (next) => async (args) => {
        sentHash = (args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256']
        return next(args)
      },
      { step: 'finalizeRequest', name: 'spyPayloadHash', priority: 'low' },
    )
    const chunks = [Buffer.from('first chunk, '), Buffer.alloc(200_000, 'x'), Buffer.from(', last chunk')]
    const body = Buffer.concat(chunks)
    const put = await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'chunked.txt',
        Body: Readable.from(chunks),
        ContentLength: body.length,
      }),
    )
    expect(sentHash).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER')
    expect(put.ETag).toBe(`"${createHash('md5').update(body).digest('hex')}"`)
    const get = await t.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'chunked.txt' }))
    expect(Buffer.from(await (get.Body?.transformToByteArray() ?? [])).equals(body)).toBe(true)
    // aws-chunked described the transfer, not the stored object.
    expect(get.ContentEncoding).toBeUndefined()
  })

  test('ranged GET answers 206 with Content-Range for a-b, a- and -n', async () => {
    const body = Buffer.from('0123456789abcdef')
    await t.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'range.bin', Body: body }))
    const read = async (range: string) => {
      const out = await t.client.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: 'range.bin', Range: range }),
      )
      return {
        status: out.$metadata.httpStatusCode,
        range: out.ContentRange,
        text: await out.Body?.transformToString(),
      }
    }
    expect(await read('bytes=2-5')).toEqual({ status: 206, range: 'bytes 2-5/16', text: '2345' })
    expect(await read('bytes=10-')).toEqual({ status: 206, range: 'bytes 10-15/16', text: 'abcdef' })
    expect(await read('bytes=-3')).toEqual({ status: 206, range: 'bytes 13-15/16', text: 'def' })
    expect(await read('bytes=14-99')).toEqual({ status: 206, range: 'bytes 14-15/16', text: 'ef' })
    expect(
      await s3ErrorOf(
        t.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'range.bin', Range: 'bytes=16-' })),
      ),
    ).toEqual({ name: 'InvalidRange', status: 416 })
  })

  test('ListObjectsV2 pages with prefix, delimiter and continuation tokens; DeleteObjects removes keys', async () => {
    const keys = ['list/a.txt', 'list/b/1.txt', 'list/b/2.txt', 'list/c.txt', 'list/d/1.txt', 'list/e.txt']
    for (const key of keys) await t.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }))

    const all = await t.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/' }))
    expect(all.Contents?.map((c) => c.Key)).toEqual(keys)
    expect(all.Contents?.[0]?.Size).toBe('list/a.txt'.length)
    expect(all.KeyCount).toBe(keys.length)

    const seen: string[] = []
    let token: string | undefined
    let pages = 0
    do {
      const page = await t.client.send(
        new ListObjectsV2Command({
          Bucket: BUCKET,
          Prefix: 'list/',
          Delimiter: '/',
          MaxKeys: 2,
          ContinuationToken: token,
        }),
      )
      seen.push(
        ...(page.Contents ?? []).map((c) => c.Key ?? ''),
        ...(page.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''),
      )
      token = page.NextContinuationToken
      expect(page.IsTruncated).toBe(token !== undefined)
      pages++
    } while (token)
    expect(pages).toBe(3)
    expect(seen.sort()).toEqual(['list/a.txt', 'list/b/', 'list/c.txt', 'list/d/', 'list/e.txt'])

    const after = await t.client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/', StartAfter: 'list/c.txt' }),
    )
    expect(after.Contents?.map((c) => c.Key)).toEqual(['list/d/1.txt', 'list/e.txt'])

    const deleted = await t.client.send(
      new DeleteObjectsCommand({
        Bucket: BUCKET,
        Delete: { Objects: [{ Key: 'list/a.txt' }, { Key: 'list/b/1.txt' }, { Key: 'list/missing' }] },
      }),
    )
    expect(deleted.Deleted?.map((d) => d.Key)).toEqual(['list/a.txt', 'list/b/1.txt', 'list/missing'])
    const left = await t.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/' }))
    expect(left.Contents?.map((c) => c.Key)).toEqual([
      'list/b/2.txt',
      'list/c.txt',
      'list/d/1.txt',
      'list/e.txt',
    ])
  })

  test('bucket operations: create, head, list, CORS configuration; missing bucket is NoSuchBucket', async () => {
    await t.client.send(new CreateBucketCommand({ Bucket: 'second-bucket' }))
    expect(
      (await t.client.send(new HeadBucketCommand({ Bucket: 'second-bucket' }))).$metadata.httpStatusCode,
    ).toBe(200)
    const { Buckets } = await t.client.send(new ListBucketsCommand({}))
    expect(Buckets?.map((b) => b.Name)).toEqual(['second-bucket', BUCKET])
    expect(await s3ErrorOf(t.client.send(new CreateBucketCommand({ Bucket: 'second-bucket' })))).toEqual({
      name: 'BucketAlreadyOwnedByYou',
      status: 409,
    })
    await t.client.send(
      new PutBucketCorsCommand({
        Bucket: 'second-bucket',
        CORSConfiguration: {
          CORSRules: [
            { AllowedOrigins: ['https://*.example.com'], AllowedMethods: ['GET'], ExposeHeaders: ['ETag'] },
          ],
        },
      }),
    )
    const cors = await t.client.send(new GetBucketCorsCommand({ Bucket: 'second-bucket' }))
    expect(cors.CORSRules).toEqual([
      { AllowedOrigins: ['https://*.example.com'], AllowedMethods: ['GET'], ExposeHeaders: ['ETag'] },
    ])
    expect(
      await s3ErrorOf(t.client.send(new PutObjectCommand({ Bucket: 'no-such-bucket', Key: 'k', Body: 'x' }))),
    ).toEqual({ name: 'NoSuchBucket', status: 404 })
  })
})

describe('access without a signature', () => {
  test('anonymous GET and PUT are refused with AccessDenied', async () => {
    await t.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'private.txt', Body: 'secret' }))
    const get = await fetch(`${t.server.endpoint}/${BUCKET}/private.txt`)
    expect(get.status).toBe(403)
    expect(await errorCode(get)).toBe('AccessDenied')
    const put = await fetch(`${t.server.endpoint}/${BUCKET}/private.txt`, {
      method: 'PUT',
      body: 'overwritten',
    })
    expect(put.status).toBe(403)
    const list = await fetch(`${t.server.endpoint}/${BUCKET}?list-type=2`)
    expect(list.status).toBe(403)
    const check = await t.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'private.txt' }))
    expect(await check.Body?.transformToString()).toBe('secret')
  })
})

describe('CORS', () => {
  test('preflight for PUT from an allowed origin lists the methods and exposes ETag', async () => {
    const res = await fetch(`${t.server.endpoint}/${BUCKET}/some/key.png`, {
      method: 'OPTIONS',
      headers: {
        Origin: ALLOWED_ORIGIN,
        'Access-Control-Request-Method': 'PUT',
        'Access-Control-Request-Headers': 'content-type',
      },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN)
    expect(res.headers.get('access-control-allow-methods')).toContain('PUT')
    expect(res.headers.get('access-control-allow-headers')).toBe('content-type')
    expect(res.headers.get('access-control-expose-headers')).toContain('ETag')
  })

  test('preflight from another origin, or for a method not allowed, is refused with 403', async () => {
    const other = await fetch(`${t.server.endpoint}/${BUCKET}/k`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'PUT' },
    })
    expect(other.status).toBe(403)
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
    const method = await fetch(`${t.server.endpoint}/${BUCKET}/k`, {
      method: 'OPTIONS',
      headers: { Origin: ALLOWED_ORIGIN, 'Access-Control-Request-Method': 'DELETE' },
    })
    expect(method.status).toBe(403)
  })

  test('actual responses to an allowed origin carry Allow-Origin, Vary and the exposed ETag', async () => {
    const res = await fetch(`${t.server.endpoint}/${BUCKET}/k`, { headers: { Origin: ALLOWED_ORIGIN } })
    // Even the 403 is readable by the page, which makes signing bugs debuggable in a browser.
    expect(res.status).toBe(403)
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN)
    expect(res.headers.get('vary')).toContain('Origin')
    expect(res.headers.get('access-control-expose-headers')).toContain('ETag')
    const foreign = await fetch(`${t.server.endpoint}/${BUCKET}/k`, {
      headers: { Origin: 'https://evil.example' },
    })
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull()
  })
})
