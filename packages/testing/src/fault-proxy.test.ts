import { randomBytes } from 'node:crypto'
import { type BucketStorage, createS3BucketStorage, s3Presets } from '@upkit/storage'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type FaultKind, type FaultProxy, startFaultProxy } from './fault-proxy'
import { classifyRequest, FaultPlan, type ProxiedRequest } from './fault-proxy-plan'
import { startTestBucket, type TestBucket } from './services'

const ORIGIN = 'http://app.test'
const quiet = () => {}

let bucket: TestBucket
beforeAll(async () => {
  bucket = await startTestBucket({ corsOrigins: [ORIGIN] })
})
afterAll(() => bucket.close())

let proxy: FaultProxy | undefined
afterEach(() => proxy?.close())

/** A proxy injecting only `kind`, into every request it applies to, and a storage that signs for its address. */
async function proxyWith(kinds: readonly FaultKind[], rate = 1, seed = 1) {
  proxy = await startFaultProxy({ target: bucket.endpoint, rate, kinds, seed, log: quiet })
  const storage: BucketStorage = createS3BucketStorage(
    s3Presets.local({ endpoint: proxy.endpoint, bucket: bucket.bucket, credentials: bucket.credentials }),
  )
  return { proxy, storage }
}

const key = () => `faults/${randomBytes(6).toString('hex')}`

async function presignedPut(storage: BucketStorage, objectKey: string, body: Buffer) {
  const signed = await storage.presignPut({
    key: objectKey,
    contentType: 'application/octet-stream',
    contentLength: body.length,
    expiresInSeconds: 300,
  })
  return fetch(signed.url, { method: 'PUT', headers: { ...signed.headers, origin: ORIGIN }, body })
}

async function stored(objectKey: string): Promise<Buffer | null> {
  const head = await bucket.storage.head(objectKey)
  if (head === null) return null
  return Buffer.from(await bucket.storage.readRange(objectKey, 0, Math.max(0, head.size - 1)))
}

describe('startFaultProxy', () => {
  it('forwards untouched at rate 0, Host header and all (the signature covers it), and counts the request', async () => {
    const { proxy, storage } = await proxyWith(['slowDown', 'resetMidBody', 'hang'], 0)
    const objectKey = key()
    const body = randomBytes(64 * 1024)
    const response = await presignedPut(storage, objectKey, body)
    expect(response.status).toBe(200)
    expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect((await stored(objectKey))?.equals(body)).toBe(true)
    expect(proxy.counts().requests.putObject).toBe(1)
    expect(Object.values(proxy.counts().faults).every((n) => n === 0)).toBe(true)
  })

  it('slowDown: answers 503 SlowDown with CORS headers and never forwards', async () => {
    const { proxy, storage } = await proxyWith(['slowDown'])
    const objectKey = key()
    const response = await presignedPut(storage, objectKey, randomBytes(1024))
    expect(response.status).toBe(503)
    expect(await response.text()).toContain('<Code>SlowDown</Code>')
    // Without these the browser would hide the 503 behind a CORS failure.
    expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect(await stored(objectKey)).toBeNull()
    expect(proxy.counts().faults.slowDown).toBe(1)
  })

  it('resetMidBody: the client never gets an answer, and the bucket holds the whole object or none of it', async () => {
    const { proxy, storage } = await proxyWith(['resetMidBody'], 1, 7)
    const outcomes: ('absent' | 'complete')[] = []
    for (let i = 0; i < 8; i++) {
      const objectKey = key()
      const body = randomBytes(256 * 1024)
      await expect(presignedPut(storage, objectKey, body)).rejects.toThrow()
      const bytes = await stored(objectKey)
      if (bytes !== null) expect(bytes.equals(body)).toBe(true)
      outcomes.push(bytes === null ? 'absent' : 'complete')
    }
    // Both halves of the kind: a body cut short (nothing stored), an answer cut short (stored, never heard of).
    expect(new Set(outcomes)).toEqual(new Set(['absent', 'complete']))
    expect(proxy.counts().faults.resetMidBody).toBe(8)
  })

  it('resetMidBody: a download stops part-way through the body', async () => {
    const objectKey = key()
    const body = randomBytes(512 * 1024)
    await bucket.storage.putObject({
      key: objectKey,
      body,
      contentType: 'application/octet-stream',
      contentLength: body.length,
    })
    const { storage } = await proxyWith(['resetMidBody'])
    const url = await storage.presignGet({ key: objectKey, expiresInSeconds: 300 })
    // A GET has no body to cut, so the answer is: its head arrives, then the connection goes.
    const read = fetch(url).then((response) => response.arrayBuffer())
    await expect(read).rejects.toThrow()
  })

  it('hang: reads the request and never answers nor forwards it', async () => {
    const { proxy, storage } = await proxyWith(['hang'])
    const objectKey = key()
    const signed = await storage.presignPut({
      key: objectKey,
      contentType: 'application/octet-stream',
      contentLength: 1024,
      expiresInSeconds: 300,
    })
    const request = fetch(signed.url, {
      method: 'PUT',
      headers: signed.headers,
      body: randomBytes(1024),
      signal: AbortSignal.timeout(1000),
    })
    // Only the client's own timeout ends it: the proxy neither answers nor resets.
    await expect(request).rejects.toThrow(/timeout|aborted/i)
    expect(await stored(objectKey)).toBeNull()
    expect(proxy.counts().faults.hang).toBe(1)
  })

  it('completeThen500: the multipart upload completes in the bucket, and the client is told 500 InternalError', async () => {
    const { proxy, storage } = await proxyWith(['completeThen500'])
    const objectKey = key()
    const part = randomBytes(5 * 1024 * 1024)
    const last = randomBytes(1024)
    const { uploadId } = await bucket.storage.createMultipartUpload({
      key: objectKey,
      contentType: 'application/octet-stream',
    })
    const etags = [
      (
        await bucket.storage.uploadPart({
          key: objectKey,
          uploadId,
          partNumber: 1,
          body: part,
          contentLength: part.length,
        })
      ).etag,
      (
        await bucket.storage.uploadPart({
          key: objectKey,
          uploadId,
          partNumber: 2,
          body: last,
          contentLength: last.length,
        })
      ).etag,
    ]
    // A part PUT through the proxy is not a Complete: the kind does not apply, the request goes through.
    const listed = await storage.presignListParts({ key: objectKey, uploadId, expiresInSeconds: 300 })
    expect((await fetch(listed.url, { headers: listed.headers })).status).toBe(200)

    const signed = await storage.presignCompleteMultipartUpload({
      key: objectKey,
      uploadId,
      expiresInSeconds: 300,
    })
    const xml = `<CompleteMultipartUpload>${etags
      .map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`)
      .join('')}</CompleteMultipartUpload>`
    const response = await fetch(signed.url, {
      method: 'POST',
      headers: { ...signed.headers, origin: ORIGIN },
      body: xml,
    })
    expect(response.status).toBe(500)
    expect(await response.text()).toContain('<Code>InternalError</Code>')
    // equals(), not toEqual: a deep comparison of 5 MiB takes vitest seconds.
    expect((await stored(objectKey))?.equals(Buffer.concat([part, last]))).toBe(true)
    expect(await bucket.storage.listMultipartUploads({ prefix: objectKey })).toEqual([])
    expect(proxy.counts().faults).toEqual({ slowDown: 0, resetMidBody: 0, hang: 0, completeThen500: 1 })
    expect(proxy.counts().faultsByType).toEqual({ completeMultipart: { completeThen500: 1 } })
    expect(proxy.report()).toContain('completeThen500 1')
  })

  it('refuses a target it cannot forward to', async () => {
    await expect(startFaultProxy({ target: 'https://bucket.test', rate: 0, log: quiet })).rejects.toThrow(
      /plain HTTP/,
    )
  })
})

describe('FaultPlan', () => {
  const request = (type: ProxiedRequest['type']): ProxiedRequest => ({
    type,
    method: 'PUT',
    url: '/b/k',
    fromBrowser: true,
  })
  const decisions = (seed: number) => {
    const plan = new FaultPlan({ seed, kinds: ['slowDown', 'resetMidBody', 'hang'], rate: 0.2 })
    return Array.from({ length: 300 }, () => plan.decide(request('uploadPart')))
  }

  it('repeats its decisions for the same seed and differs for another', () => {
    expect(decisions(42)).toEqual(decisions(42))
    expect(decisions(42)).not.toEqual(decisions(43))
  })

  it('faults about the share asked for, spread over every kind, and never a preflight', () => {
    const plan = new FaultPlan({ seed: 5, kinds: ['slowDown', 'resetMidBody', 'hang'], rate: 0.05 })
    for (let i = 0; i < 2000; i++) {
      plan.decide(request('uploadPart'))
      expect(plan.decide(request('preflight'))).toBeNull()
    }
    const { faults, requests } = plan.counts()
    const total = faults.slowDown + faults.resetMidBody + faults.hang
    expect(total).toBeGreaterThan(60)
    expect(total).toBeLessThan(140)
    expect(Math.max(faults.slowDown, faults.resetMidBody, faults.hang)).toBeLessThanOrEqual(
      Math.min(faults.slowDown, faults.resetMidBody, faults.hang) + 1,
    )
    expect(requests).toEqual({ uploadPart: 2000, preflight: 2000 })
  })

  it('injects completeThen500 only into CompleteMultipartUpload', () => {
    const plan = new FaultPlan({ seed: 1, kinds: ['completeThen500'], rate: 1 })
    expect(plan.decide(request('uploadPart'))).toBeNull()
    expect(plan.decide(request('completeMultipart'))).toBe('completeThen500')
  })

  it('prefers completeThen500 for a faulted Complete while it is among the least used', () => {
    const plan = new FaultPlan({ seed: 3, kinds: ['slowDown', 'hang', 'completeThen500'], rate: 1 })
    expect(plan.decide(request('completeMultipart'))).toBe('completeThen500')
    expect(plan.decide(request('completeMultipart'))).not.toBe('completeThen500')
  })

  it('asks a rate function with the counts so far, the request already counted', () => {
    const seen: number[] = []
    const plan = new FaultPlan({
      seed: 3,
      kinds: ['slowDown'],
      rate: (_, counts) => {
        seen.push(counts.requests.uploadPart ?? 0)
        // Only the third request: a test can place a fault exactly.
        return counts.requests.uploadPart === 3 ? 1 : 0
      },
    })
    const decided = Array.from({ length: 4 }, () => plan.decide(request('uploadPart')))
    expect(decided).toEqual([null, null, 'slowDown', null])
    expect(seen).toEqual([1, 2, 3, 4])
  })

  it('places a scripted fault whatever the rate, and ignores one that does not apply', () => {
    const plan = new FaultPlan({
      seed: 9,
      kinds: ['slowDown', 'resetMidBody', 'completeThen500'],
      rate: 0,
      script: (request, counts) =>
        request.type === 'createMultipart' && counts.requests.createMultipart === 2
          ? 'resetMidBody'
          : 'completeThen500',
    })
    const decided = (['createMultipart', 'createMultipart', 'uploadPart', 'completeMultipart'] as const).map(
      (type) => plan.decide(request(type)),
    )
    // completeThen500 fits only the Complete; elsewhere the rate (0) decides.
    expect(decided).toEqual([null, 'resetMidBody', null, 'completeThen500'])
    expect(plan.counts().faults).toMatchObject({ resetMidBody: 1, completeThen500: 1 })
  })

  it('refuses a rate outside 0..1 and an unknown kind', () => {
    expect(() => new FaultPlan({ seed: 1, kinds: ['hang'], rate: 1.5 })).toThrow(RangeError)
    expect(() => new FaultPlan({ seed: 1, kinds: ['nap' as FaultKind], rate: 0.1 })).toThrow(TypeError)
  })
})

describe('classifyRequest', () => {
  it.each([
    ['OPTIONS', '/b/k', 'preflight'],
    ['PUT', '/b/k?x-id=PutObject', 'putObject'],
    ['PUT', '/b/k?partNumber=2&uploadId=u', 'uploadPart'],
    ['POST', '/b/k?uploads', 'createMultipart'],
    ['POST', '/b/k?uploadId=u', 'completeMultipart'],
    ['POST', '/b?delete', 'deleteObjects'],
    ['GET', '/b/k?uploadId=u', 'listParts'],
    ['GET', '/b/k', 'getObject'],
    ['GET', '/b?list-type=2', 'listObjects'],
    ['GET', '/b?uploads', 'listMultipartUploads'],
    ['HEAD', '/b/k', 'headObject'],
    ['DELETE', '/b/k?uploadId=u', 'abortMultipart'],
    ['DELETE', '/b/k', 'deleteObject'],
    ['PUT', '/b?cors', 'other'],
  ] as const)('%s %s is %s', (method, url, type) => {
    expect(classifyRequest(method, url)).toBe(type)
  })
})
