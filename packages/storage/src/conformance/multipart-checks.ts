import type { BucketStorage } from '../bucket-storage'
import { bytesOf, type Check, expectOk, expectThat, rejectionOf, sameBytes, send } from './check'

const MiB = 1024 * 1024
const EXPIRES = 300

/** The browser's multipart path: presigned create, part PUTs (reading each ETag), ListParts, Complete. */
const multipartUpload: Check = {
  id: 'multipart',
  title: 'Multipart: presigned create, parts, ListParts, Complete (parts in order, -N ETag)',
  meaning:
    'Large files upload in parts straight from the browser; without this they are limited to one PUT (5 GiB on AWS, less elsewhere) and cannot resume.',
  fix: 'Every S3 API has multipart; if only the presigned calls fail, check the bucket CORS exposes ETag and allows POST.',
  async run({ storage, prefix }) {
    const key = `${prefix}big.bin`
    const first = bytesOf(5 * MiB, 1)
    const last = bytesOf(1024, 2)
    const parts = [first, last]
    const create = await send(
      await storage.presignCreateMultipartUpload({
        key,
        contentType: 'application/octet-stream',
        expiresInSeconds: EXPIRES,
      }),
    )
    const createText = await create.text()
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(createText)?.[1]
    expectThat(create.ok && uploadId !== undefined, `presigned CreateMultipartUpload: HTTP ${create.status}`)
    const etags: string[] = []
    for (const [index, body] of parts.entries()) {
      const partNumber = index + 1
      const request = await storage.presignUploadPart({
        key,
        uploadId,
        partNumber,
        contentLength: body.length,
        expiresInSeconds: EXPIRES,
      })
      const response = await send(request, body)
      await expectOk(response, `part ${partNumber}`)
      const etag = response.headers.get('etag')
      expectThat(etag !== null, `part ${partNumber}: no ETag header in the answer`)
      etags.push(etag)
    }
    const listed = await storage.listParts({ key, uploadId })
    expectThat(
      listed.map((part) => `${part.partNumber}:${part.size}:${part.etag}`).join() ===
        etags.map((etag, i) => `${i + 1}:${parts[i]?.length}:${etag}`).join(),
      `ListParts answered ${JSON.stringify(listed)}`,
    )
    const listedSigned = await send(
      await storage.presignListParts({ key, uploadId, expiresInSeconds: EXPIRES }),
    )
    await expectOk(listedSigned, `presigned ListParts`)
    const xml = `<CompleteMultipartUpload>${etags
      .map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`)
      .join('')}</CompleteMultipartUpload>`
    const complete = await send(
      await storage.presignCompleteMultipartUpload({ key, uploadId, expiresInSeconds: EXPIRES }),
      xml,
    )
    const completeText = await complete.text()
    // S3 may answer 200 with an <Error> body when Complete fails late.
    expectThat(
      complete.ok && !completeText.includes('<Error>'),
      `presigned Complete: HTTP ${complete.status} ${completeText.slice(0, 200)}`,
    )
    const head = await storage.head(key)
    expectThat(head?.size === 5 * MiB + 1024, `size after Complete: ${head?.size}`)
    expectThat(
      /-2"?$/.test(head.etag ?? ''),
      `ETag ${head.etag} does not end in -2 (a multipart ETag of 2 parts)`,
    )
    const across = await storage.readRange(key, 5 * MiB - 4, 5 * MiB + 3)
    const expected = new Uint8Array([...first.subarray(5 * MiB - 4), ...last.subarray(0, 4)])
    expectThat(sameBytes(across, expected), 'bytes across the part boundary differ')
  },
}

async function expectNoSuchUpload(storage: BucketStorage, key: string, uploadId: string) {
  const name = await rejectionOf(storage.listParts({ key, uploadId }))
  expectThat(name === 'NoSuchUpload', `ListParts after Abort: ${name}, expected NoSuchUpload`)
}

const multipartAbort: Check = {
  id: 'multipart-abort',
  title: 'Multipart Abort (presigned): then ListParts answers NoSuchUpload',
  meaning:
    'Cancelled and abandoned uploads are aborted so their parts stop costing storage; a provider that keeps them bills for parts nobody can see in a listing.',
  fix: 'Also set a lifecycle rule aborting incomplete multipart uploads after a day (README: Configuration).',
  async run({ storage, prefix }) {
    const key = `${prefix}aborted.bin`
    const { uploadId } = await storage.createMultipartUpload({ key, contentType: 'application/octet-stream' })
    await storage.uploadPart({ key, uploadId, partNumber: 1, body: bytesOf(1024), contentLength: 1024 })
    const inProgress = await storage.listMultipartUploads({ prefix })
    expectThat(
      inProgress.some((upload) => upload.uploadId === uploadId),
      'ListMultipartUploads does not show the upload',
    )
    const abort = await send(
      await storage.presignAbortMultipartUpload({ key, uploadId, expiresInSeconds: EXPIRES }),
    )
    await expectOk(abort, `presigned Abort`)
    await expectNoSuchUpload(storage, key, uploadId)
  },
}

const entityTooSmall: Check = {
  id: 'multipart-too-small',
  title: 'Complete with a non-last part under 5 MiB refused (EntityTooSmall)',
  meaning:
    "upkit's uploader sizes parts at 5 MiB or more for this rule; a provider with a higher minimum refuses Complete, and one without any minimum hides a client bug that AWS would reveal.",
  fix: "If the provider's minimum part size is higher than 5 MiB, raise the uploader's part size.",
  async run({ storage, prefix }) {
    const key = `${prefix}small-parts.bin`
    const { uploadId } = await storage.createMultipartUpload({ key, contentType: 'application/octet-stream' })
    try {
      const parts = []
      for (const partNumber of [1, 2]) {
        const { etag } = await storage.uploadPart({
          key,
          uploadId,
          partNumber,
          body: bytesOf(16),
          contentLength: 16,
        })
        parts.push({ partNumber, etag })
      }
      const name = await rejectionOf(storage.completeMultipartUpload({ key, uploadId, parts }))
      expectThat(name === 'EntityTooSmall', `Complete answered ${name}, expected EntityTooSmall`)
    } finally {
      await storage.abortMultipartUpload({ key, uploadId }).catch(() => undefined)
    }
  },
}

export const multipartChecks: readonly Check[] = [multipartUpload, multipartAbort, entityTooSmall]
