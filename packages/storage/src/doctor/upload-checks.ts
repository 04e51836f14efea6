import type { CheckContext, CheckOutcome } from './check-context'
import { ok, partBody, refused } from './check-context'
import { readS3Answer } from './s3-answer'

const MIB = 1024 * 1024
/** S3's smallest non-last part. */
const PART_SIZE = 5 * MIB
const LAST_PART_SIZE = 1024
const URL_TTL_SECONDS = 300

async function presignedPut(
  ctx: CheckContext,
  key: string,
  body: Uint8Array<ArrayBuffer>,
  signedLength = body.length,
) {
  const signed = await ctx.client.storage.presignPut({
    key,
    contentType: 'application/octet-stream',
    contentLength: signedLength,
    expiresInSeconds: URL_TTL_SECONDS,
  })
  return fetch(signed.url, { method: 'PUT', headers: signed.headers, body, signal: ctx.signal })
}

/**
 * upkit caps upload sizes by signing Content-Length into each presigned PUT: a body one byte longer than signed
 * must be refused, or the bucket takes files of any size. The exact size must be accepted, or no upload works.
 */
export async function checkContentLength(ctx: CheckContext): Promise<CheckOutcome> {
  const key = `${ctx.prefix}content-length.bin`
  const longer = await presignedPut(ctx, key, partBody(17, 1), 16)
  await longer.body?.cancel()
  if (longer.ok) {
    ctx.defer(() => ctx.client.storage.deleteObject(key))
    return {
      status: 'fail',
      detail: `a presigned PUT signed for 16 bytes accepted 17 (${longer.status})`,
      fix: 'This provider ignores the signed Content-Length, so upload size limits are not enforced by the bucket: use a provider that checks it (AWS S3, R2, MinIO do), or put a proxy that checks Content-Length in front of the bucket.',
    }
  }
  const exact = await presignedPut(ctx, key, partBody(16, 1))
  if (exact.ok) ctx.defer(() => ctx.client.storage.deleteObject(key))
  if (!exact.ok)
    return refused(
      'presigned PUT of the signed size',
      await readS3Answer(exact),
      ctx,
      'Presigned PUTs are refused: see the provider error above.',
    )
  await exact.body?.cancel()
  return ok(`a body longer than signed was refused (${longer.status}); the signed size was accepted`)
}

/**
 * upkit signs `If-None-Match: *` into every single PUT, so a replayed URL cannot replace an object once it is there.
 * A provider that ignores it gets a warning, not a failure: upkit then still records the ETag it checked at confirm
 * and refuses downloads of an object that changed (OBJECT_CHANGED).
 */
export async function checkConditionalWrite(ctx: CheckContext): Promise<CheckOutcome> {
  const key = `${ctx.prefix}conditional.bin`
  const first = await presignedPut(ctx, key, partBody(8, 1))
  if (first.ok) ctx.defer(() => ctx.client.storage.deleteObject(key))
  if (!first.ok)
    return refused(
      'first presigned PUT',
      await readS3Answer(first),
      ctx,
      'Presigned PUTs are refused: see the provider error above.',
    )
  await first.body?.cancel()
  const second = await presignedPut(ctx, key, partBody(8, 2))
  const answer = await readS3Answer(second)
  if (second.status === 412) return ok('a second PUT with If-None-Match: * to an existing key got 412')
  const detail = second.ok
    ? 'a second PUT with If-None-Match: * replaced the existing object'
    : `a second PUT with If-None-Match: * got ${second.status} ${answer.code} instead of 412`
  return {
    status: 'warn',
    detail,
    fix: 'This provider does not honour conditional writes: a replayed presigned PUT can replace an object before its URL expires. upkit still records the ETag it checked at confirm and refuses to serve a changed object (OBJECT_CHANGED); keep signedUrlTtlSeconds short.',
  }
}

/**
 * A browser's multipart upload through presigned URLs: create, a 5 MiB part and a small last part (each answering
 * an ETag the page can read), complete, then the object's ETag must be the multipart kind (`"…-2"`).
 */
export async function checkMultipart(ctx: CheckContext): Promise<CheckOutcome> {
  const { storage } = ctx.client
  const key = `${ctx.prefix}multipart.bin`
  const failed = (step: string, answer: Awaited<ReturnType<typeof readS3Answer>>) =>
    refused(
      step,
      answer,
      ctx,
      'Multipart uploads are refused: see the provider error above (uploads over the single-PUT size fail).',
    )
  const create = await storage.presignCreateMultipartUpload({
    key,
    contentType: 'application/octet-stream',
    expiresInSeconds: URL_TTL_SECONDS,
  })
  const created = await fetch(create.url, { method: 'POST', headers: create.headers, signal: ctx.signal })
  if (!created.ok) return failed('CreateMultipartUpload', await readS3Answer(created))
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await created.text())?.[1]
  if (uploadId === undefined)
    return {
      status: 'fail',
      detail: 'CreateMultipartUpload answered no UploadId',
      fix: 'The provider does not support multipart uploads: upkit needs them for files over the single-PUT size.',
    }
  let completed = false
  ctx.defer(async () => {
    if (!completed) await storage.abortMultipartUpload({ key, uploadId }).catch(() => {})
    await storage.deleteObject(key)
  })

  const parts: { partNumber: number; etag: string }[] = []
  for (const [partNumber, size] of [
    [1, PART_SIZE],
    [2, LAST_PART_SIZE],
  ] as const) {
    const signed = await storage.presignUploadPart({
      key,
      uploadId,
      partNumber,
      contentLength: size,
      expiresInSeconds: URL_TTL_SECONDS,
    })
    const response = await fetch(signed.url, {
      method: 'PUT',
      headers: signed.headers,
      body: partBody(size, partNumber),
      signal: ctx.signal,
    })
    if (!response.ok) return failed(`UploadPart ${partNumber}`, await readS3Answer(response))
    await response.body?.cancel()
    const etag = response.headers.get('etag')
    if (!etag)
      return {
        status: 'fail',
        detail: `UploadPart ${partNumber} answered no ETag header`,
        fix: 'upkit completes multipart uploads with the part ETags the bucket returns: the provider must send them.',
      }
    parts.push({ partNumber, etag })
  }
  const complete = await storage.presignCompleteMultipartUpload({
    key,
    uploadId,
    expiresInSeconds: URL_TTL_SECONDS,
  })
  const xml = `<CompleteMultipartUpload>${parts.map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${p.etag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`
  const done = await fetch(complete.url, {
    method: 'POST',
    headers: { ...complete.headers, 'content-type': 'application/xml' },
    body: xml,
    signal: ctx.signal,
  })
  const text = await done.text()
  // S3 may answer 200 and put the error in the body when completing takes long.
  if (!done.ok || text.includes('<Error>'))
    return failed(
      'CompleteMultipartUpload',
      await readS3Answer(new Response(text, { status: done.ok ? 500 : done.status, headers: done.headers })),
    )
  completed = true
  const head = await storage.head(key)
  const size = PART_SIZE + LAST_PART_SIZE
  if (head === null)
    return {
      status: 'fail',
      detail: 'the completed object is not there',
      fix: 'The provider lost a completed multipart upload: contact its support.',
    }
  if (head.size !== size || !/-2"?$/.test(head.etag ?? '')) {
    return {
      status: 'fail',
      detail: `the completed object has ${head.size} bytes (expected ${size}) and ETag ${head.etag ?? 'none'} (expected one ending in -2)`,
      fix: "upkit confirms multipart uploads by their '-N' ETag and size: this provider's multipart answers differ from S3's.",
    }
  }
  return ok(`create, 2 parts (5 MiB + 1 KiB), complete: ETag ${head.etag}, ${size} bytes`)
}
