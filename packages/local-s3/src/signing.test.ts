import { GetObjectCommand, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { BUCKET, errorCode, startTestServer, type TestServer } from './test-server'

let t: TestServer
beforeAll(async () => {
  t = await startTestServer()
})
afterAll(async () => {
  await t.stop()
})

const presignPut = (key: string, extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]> = {}) =>
  getSignedUrl(t.client, new PutObjectCommand({ Bucket: BUCKET, Key: key, ...extra }), { expiresIn: 300 })

async function readBack(key: string): Promise<string | undefined> {
  try {
    const out = await t.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
    return await out.Body?.transformToString()
  } catch (error) {
    if (error instanceof S3ServiceException && error.name === 'NoSuchKey') return undefined
    throw error
  }
}

describe('presigned URLs', () => {
  test('a presigned PUT stores the body, a presigned GET returns it', async () => {
    const key = 'users/42/avatar (1) é.png'
    const put = await fetch(await presignPut(key), { method: 'PUT', body: 'image bytes' })
    expect(put.status).toBe(200)
    expect(put.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/)
    const getUrl = await getSignedUrl(t.client, new GetObjectCommand({ Bucket: BUCKET, Key: key }), {
      expiresIn: 60,
    })
    const get = await fetch(getUrl)
    expect(get.status).toBe(200)
    expect(await get.text()).toBe('image bytes')
  })

  test('a URL whose key was changed is refused', async () => {
    const url = await presignPut('allowed.txt')
    const res = await fetch(url.replace('/allowed.txt?', '/other.txt?'), { method: 'PUT', body: 'x' })
    expect(res.status).toBe(403)
    expect(await errorCode(res)).toBe('SignatureDoesNotMatch')
    expect(await readBack('other.txt')).toBeUndefined()
  })

  test('a URL whose query was changed is refused', async () => {
    const url = new URL(await presignPut('query.txt'))
    const longer = new URL(url)
    longer.searchParams.set('X-Amz-Expires', '604800')
    const added = new URL(url)
    added.searchParams.set('x-amz-acl', 'public-read')
    for (const tampered of [longer, added]) {
      const res = await fetch(tampered, { method: 'PUT', body: 'x' })
      expect(res.status).toBe(403)
      expect(await errorCode(res)).toBe('SignatureDoesNotMatch')
    }
    expect(await readBack('query.txt')).toBeUndefined()
  })

  test('a URL signed with the wrong secret or an unknown key id is refused', async () => {
    const wrongSecret = t.makeClient({
      credentials: { accessKeyId: 'local-test-key', secretAccessKey: 'not-the-secret' },
    })
    const url = await getSignedUrl(wrongSecret, new PutObjectCommand({ Bucket: BUCKET, Key: 'secret.txt' }))
    const res = await fetch(url, { method: 'PUT', body: 'x' })
    expect(res.status).toBe(403)
    expect(await errorCode(res)).toBe('SignatureDoesNotMatch')

    const wrongKey = t.makeClient({
      credentials: { accessKeyId: 'someone-else', secretAccessKey: 'not-the-secret' },
    })
    const other = await fetch(
      await getSignedUrl(wrongKey, new PutObjectCommand({ Bucket: BUCKET, Key: 'secret.txt' })),
      {
        method: 'PUT',
        body: 'x',
      },
    )
    expect(other.status).toBe(403)
    expect(await errorCode(other)).toBe('InvalidAccessKeyId')
    expect(await readBack('secret.txt')).toBeUndefined()
  })

  test('an expired URL is refused; one valid longer than 7 days is malformed', async () => {
    const expired = await getSignedUrl(t.client, new PutObjectCommand({ Bucket: BUCKET, Key: 'late.txt' }), {
      expiresIn: 60,
      signingDate: new Date(Date.now() - 120_000),
    })
    const res = await fetch(expired, { method: 'PUT', body: 'x' })
    expect(res.status).toBe(403)
    const text = await res.text()
    expect(text).toContain('<Code>AccessDenied</Code>')
    expect(text).toContain('Request has expired')

    const stillValid = await getSignedUrl(
      t.client,
      new PutObjectCommand({ Bucket: BUCKET, Key: 'late.txt' }),
      {
        expiresIn: 300,
        signingDate: new Date(Date.now() - 120_000),
      },
    )
    expect((await fetch(stillValid, { method: 'PUT', body: 'x' })).status).toBe(200)

    const tooLong = new URL(await presignPut('long.txt'))
    tooLong.searchParams.set('X-Amz-Expires', '604801')
    const long = await fetch(tooLong, { method: 'PUT', body: 'x' })
    expect(long.status).toBe(400)
    expect(await errorCode(long)).toBe('AuthorizationQueryParametersError')
  })

  test('a URL signed for another region is refused', async () => {
    const elsewhere = t.makeClient({ region: 'eu-west-1' })
    const res = await fetch(
      await getSignedUrl(elsewhere, new PutObjectCommand({ Bucket: BUCKET, Key: 'region.txt' })),
      {
        method: 'PUT',
        body: 'x',
      },
    )
    expect(res.status).toBe(403)
    expect(await readBack('region.txt')).toBeUndefined()
  })

  test('a signed Content-Length binds the body size', async () => {
    const url = await presignPut('sized.bin', { ContentLength: 5 })
    expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toContain('content-length')
    const larger = await fetch(url, { method: 'PUT', body: '123456' })
    expect(larger.status).toBe(403)
    expect(await errorCode(larger)).toBe('SignatureDoesNotMatch')
    expect(await readBack('sized.bin')).toBeUndefined()
    const exact = await fetch(url, { method: 'PUT', body: '12345' })
    expect(exact.status).toBe(200)
    expect(await readBack('sized.bin')).toBe('12345')
  })

  test('a signed Content-Type binds the type', async () => {
    const url = await getSignedUrl(
      t.client,
      new PutObjectCommand({ Bucket: BUCKET, Key: 'typed.png', ContentType: 'image/png' }),
      { expiresIn: 300, signableHeaders: new Set(['content-type']) },
    )
    expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toContain('content-type')
    const html = await fetch(url, {
      method: 'PUT',
      body: '<script>',
      headers: { 'Content-Type': 'text/html' },
    })
    expect(html.status).toBe(403)
    expect(await readBack('typed.png')).toBeUndefined()
    const png = await fetch(url, { method: 'PUT', body: 'png', headers: { 'Content-Type': 'image/png' } })
    expect(png.status).toBe(200)
    const head = await fetch(
      await getSignedUrl(t.client, new GetObjectCommand({ Bucket: BUCKET, Key: 'typed.png' })),
    )
    expect(head.headers.get('content-type')).toBe('image/png')
  })

  test('unsigned x-amz-* headers cannot be added to a presigned PUT', async () => {
    const url = await presignPut('meta.txt')
    const res = await fetch(url, { method: 'PUT', body: 'x', headers: { 'x-amz-meta-role': 'admin' } })
    expect(res.status).toBe(403)
    expect(await readBack('meta.txt')).toBeUndefined()
  })

  test('a presigned GET with a response-content-disposition containing parentheses returns that header', async () => {
    await t.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'docs/résumé (1).pdf', Body: '%PDF' }))
    const disposition = "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9%20(1).pdf"
    const url = await getSignedUrl(
      t.client,
      new GetObjectCommand({
        Bucket: BUCKET,
        Key: 'docs/résumé (1).pdf',
        ResponseContentDisposition: disposition,
        ResponseContentType: 'application/pdf',
        ResponseCacheControl: 'private, max-age=60',
      }),
      { expiresIn: 60 },
    )
    const res = await fetch(url)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-disposition')).toBe(disposition)
    expect(res.headers.get('content-type')).toBe('application/pdf')
    expect(res.headers.get('cache-control')).toBe('private, max-age=60')
    expect(await res.text()).toBe('%PDF')
  })
})

describe('header-signed requests', () => {
  test('a body that does not match the signed x-amz-content-sha256 is refused and not stored', async () => {
    const client = t.makeClient()
    let signedHash: string | undefined
    type Middleware = Parameters<typeof client.middlewareStack.addRelativeTo>[0]
    // Runs after signing: the signature covers the original body's sha256, the wire carries another body.
    const tamper = ((next: (args: { request: unknown }) => Promise<unknown>) =>
      (args: { request: unknown }) => {
        const request = args.request as { headers: Record<string, string>; body: unknown }
        signedHash = request.headers['x-amz-content-sha256']
        request.body = 'tampered body!' // same length as the signed one
        return next(args)
      }) as unknown as Middleware
    client.middlewareStack.addRelativeTo(tamper, {
      relation: 'after',
      toMiddleware: 'httpSigningMiddleware',
      name: 'tamperBody',
    })
    const error = await client
      .send(new PutObjectCommand({ Bucket: BUCKET, Key: 'tampered.txt', Body: 'original body!' }))
      .then(
        () => undefined,
        (e: S3ServiceException) => e,
      )
    expect(signedHash).toMatch(/^[0-9a-f]{64}$/)
    expect(error?.name).toBe('XAmzContentSHA256Mismatch')
    expect(error?.$metadata.httpStatusCode).toBe(400)
    expect(await readBack('tampered.txt')).toBeUndefined()
  })

  test('a request signed 30 minutes off is RequestTimeTooSkewed', async () => {
    const skewed = t.makeClient({ systemClockOffset: -30 * 60 * 1000, maxAttempts: 1 })
    const error = await skewed.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'x' })).then(
      () => undefined,
      (e: S3ServiceException) => e,
    )
    expect(error?.name).toBe('RequestTimeTooSkewed')
    expect(error?.$metadata.httpStatusCode).toBe(403)
  })

  test('a request signed with the wrong secret is SignatureDoesNotMatch', async () => {
    const wrong = t.makeClient({ credentials: { accessKeyId: 'local-test-key', secretAccessKey: 'nope' } })
    const error = await wrong.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'x', Body: 'x' })).then(
      () => undefined,
      (e: S3ServiceException) => e,
    )
    expect(error?.name).toBe('SignatureDoesNotMatch')
    expect(error?.$metadata.httpStatusCode).toBe(403)
  })
})
