import { createHash, randomBytes } from 'node:crypto'
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { BUCKET, s3ErrorOf, startTestServer, type TestServer } from './test-server'

const MiB = 1024 * 1024

let t: TestServer
beforeAll(async () => {
  t = await startTestServer()
})
afterAll(async () => {
  await t.stop()
})

async function createUpload(key: string): Promise<string> {
  const { UploadId } = await t.client.send(
    new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ContentType: 'video/mp4' }),
  )
  if (!UploadId) throw new Error('no UploadId')
  return UploadId
}

/** Uploads one part the way the browser does: a presigned PUT, reading the ETag header. */
async function putPart(key: string, uploadId: string, partNumber: number, body: Buffer): Promise<string> {
  const url = await getSignedUrl(
    t.client,
    new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: partNumber }),
    { expiresIn: 300 },
  )
  const res = await fetch(url, { method: 'PUT', body })
  expect(res.status).toBe(200)
  const etag = res.headers.get('etag')
  if (!etag) throw new Error('no ETag')
  return etag
}

const md5 = (data: Buffer) => createHash('md5').update(data).digest()

describe('multipart uploads', () => {
  test('create, upload parts via presigned URLs, list parts, complete: AWS -N ETag and identical bytes', async () => {
    const key = 'videos/big file (2).mp4'
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB + 3), randomBytes(1234)]
    const uploadId = await createUpload(key)
    const etags: string[] = []
    for (const [i, body] of parts.entries()) etags.push(await putPart(key, uploadId, i + 1, body))
    expect(etags[0]).toBe(`"${md5(parts[0] as Buffer).toString('hex')}"`)

    const listed = await t.client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }))
    expect(listed.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size])).toEqual(
      parts.map((body, i) => [i + 1, etags[i], body.length]),
    )
    const firstPage = await t.client.send(
      new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, MaxParts: 2 }),
    )
    expect(firstPage.Parts?.map((p) => p.PartNumber)).toEqual([1, 2])
    expect(firstPage.IsTruncated).toBe(true)
    const secondPage = await t.client.send(
      new ListPartsCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        PartNumberMarker: firstPage.NextPartNumberMarker,
      }),
    )
    expect(secondPage.Parts?.map((p) => p.PartNumber)).toEqual([3])
    expect(secondPage.IsTruncated).toBe(false)

    const uploads = await t.client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))
    expect(uploads.Uploads?.map((u) => [u.Key, u.UploadId])).toContainEqual([key, uploadId])

    const done = await t.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    )
    const expectedEtag = `"${createHash('md5')
      .update(Buffer.concat(parts.map(md5)))
      .digest('hex')}-3"`
    expect(done.ETag).toBe(expectedEtag)

    const object = await t.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
    expect(object.ETag).toBe(expectedEtag)
    expect(object.ContentType).toBe('video/mp4')
    const bytes = Buffer.from(await (object.Body?.transformToByteArray() ?? []))
    const whole = Buffer.concat(parts)
    expect(bytes.equals(whole)).toBe(true)
    // Small ranges are read with blocking calls, large ones streamed: both across the parts' data files.
    for (const [start, end] of [
      [5 * MiB - 10, 10 * MiB + 5],
      [5 * MiB - 3, 5 * MiB + 2],
      [0, 64 * 1024 - 1],
      [0, 64 * 1024],
    ] as const) {
      const ranged = await t.client.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: `bytes=${start}-${end}` }),
      )
      expect(ranged.ContentRange).toBe(`bytes ${start}-${end}/${whole.length}`)
      const got = Buffer.from(await (ranged.Body?.transformToByteArray() ?? []))
      expect(got.equals(whole.subarray(start, end + 1))).toBe(true)
    }

    // The upload is gone once completed.
    expect(
      await s3ErrorOf(t.client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }))),
    ).toEqual({
      name: 'NoSuchUpload',
      status: 404,
    })
  })

  test('complete with a wrong ETag is InvalidPart, parts out of order is InvalidPartOrder', async () => {
    const key = 'wrong-etag.bin'
    const uploadId = await createUpload(key)
    const etag = await putPart(key, uploadId, 1, randomBytes(100))
    const complete = (Parts: { ETag: string; PartNumber: number }[]) =>
      t.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts },
        }),
      )
    expect(
      await s3ErrorOf(complete([{ ETag: '"00000000000000000000000000000000"', PartNumber: 1 }])),
    ).toEqual({
      name: 'InvalidPart',
      status: 400,
    })
    expect(await s3ErrorOf(complete([{ ETag: etag, PartNumber: 2 }]))).toEqual({
      name: 'InvalidPart',
      status: 400,
    })
    expect(
      await s3ErrorOf(
        complete([
          { ETag: etag, PartNumber: 1 },
          { ETag: etag, PartNumber: 1 },
        ]),
      ),
    ).toEqual({ name: 'InvalidPartOrder', status: 400 })
    expect(await s3ErrorOf(t.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })))).toEqual({
      name: 'NotFound',
      status: 404,
    })
    // A failed complete leaves the upload usable.
    const done = await complete([{ ETag: etag, PartNumber: 1 }])
    expect(done.ETag).toMatch(/-1"$/)
  })

  test('a part below 5 MiB that is not the last one is EntityTooSmall', async () => {
    const key = 'too-small.bin'
    const uploadId = await createUpload(key)
    const first = await putPart(key, uploadId, 1, randomBytes(5 * MiB - 1))
    const second = await putPart(key, uploadId, 2, randomBytes(10))
    const error = await s3ErrorOf(
      t.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: {
            Parts: [
              { ETag: first, PartNumber: 1 },
              { ETag: second, PartNumber: 2 },
            ],
          },
        }),
      ),
    )
    expect(error).toEqual({ name: 'EntityTooSmall', status: 400 })
  })

  test('abort answers 204, then the upload is NoSuchUpload and no object exists', async () => {
    const key = 'aborted.bin'
    const uploadId = await createUpload(key)
    await putPart(key, uploadId, 1, randomBytes(1000))
    const aborted = await t.client.send(
      new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }),
    )
    expect(aborted.$metadata.httpStatusCode).toBe(204)
    expect(
      await s3ErrorOf(t.client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }))),
    ).toEqual({
      name: 'NoSuchUpload',
      status: 404,
    })
    const url = await getSignedUrl(
      t.client,
      new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: 2 }),
    )
    expect((await fetch(url, { method: 'PUT', body: 'late part' })).status).toBe(404)
    expect(await s3ErrorOf(t.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })))).toEqual({
      name: 'NotFound',
      status: 404,
    })
  })

  test('part numbers outside 1..10000 are refused', async () => {
    const key = 'part-number.bin'
    const uploadId = await createUpload(key)
    for (const partNumber of [0, 10001]) {
      const url = await getSignedUrl(
        t.client,
        new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: partNumber }),
      )
      expect((await fetch(url, { method: 'PUT', body: 'x' })).status).toBe(400)
    }
  })
})

describe('restart', () => {
  test('objects and in-progress multipart uploads survive close + start on the same dir and port', async () => {
    await t.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'kept.txt', Body: 'still here' }))
    const key = 'resumed.bin'
    const uploadId = await createUpload(key)
    const first = randomBytes(5 * MiB)
    const firstEtag = await putPart(key, uploadId, 1, first)
    const endpoint = t.server.endpoint

    await t.restart()
    expect(t.server.endpoint).toBe(endpoint)

    const kept = await t.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'kept.txt' }))
    expect(await kept.Body?.transformToString()).toBe('still here')
    const listed = await t.client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }))
    expect(listed.Parts?.map((p) => p.ETag)).toEqual([firstEtag])

    const second = randomBytes(777)
    const secondEtag = await putPart(key, uploadId, 2, second)
    await t.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: {
          Parts: [
            { ETag: firstEtag, PartNumber: 1 },
            { ETag: secondEtag, PartNumber: 2 },
          ],
        },
      }),
    )
    const object = await t.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
    const bytes = Buffer.from(await (object.Body?.transformToByteArray() ?? []))
    expect(bytes.equals(Buffer.concat([first, second]))).toBe(true)
  })
})
