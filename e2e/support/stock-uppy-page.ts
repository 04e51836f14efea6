// Bundled for the browser by stock-uppy.ts and added to a demo page: the stock `@uppy/aws-s3` 6.x plugin, not
// upkit's uploader, sending a file through upkit's `uploads.sign` hook, as an app that keeps the stock plugin
// would wire it. Only plain tRPC HTTP calls (the demo uses no transformer), with the page's session cookie.
import type { CreatedUpload, UploadRecord } from '@upkit/core'
import AwsS3 from '@uppy/aws-s3'
import Uppy from '@uppy/core'

async function trpc<T>(path: string, input: unknown): Promise<T> {
  const response = await fetch(`/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
  })
  const body = (await response.json()) as { result?: { data: T }; error?: { message: string } }
  if (!response.ok || !body.result) throw new Error(`${path}: ${body.error?.message ?? response.status}`)
  return body.result.data
}

export interface StockUploadResult {
  readonly record: UploadRecord
  /** Every request the plugin asked `signRequest` to sign, in order. */
  readonly signed: { method: string; partNumber?: number; withUploadId: boolean }[]
}

/** Uploads the file chosen in `input` to `taskId` with the stock plugin, then confirms it. */
async function stockUpload(input: HTMLInputElement, taskId: string): Promise<StockUploadResult> {
  const file = input.files?.[0]
  if (!file) throw new Error('no file chosen')
  // upkit creates the upload first (server-side key, policy checks, plan); the plugin then asks for signatures.
  const created = await trpc<CreatedUpload>('uploads.create', {
    route: 'taskAttachment',
    input: { taskId },
    fileName: file.name,
    size: file.size,
    mimeType: file.type,
  })
  const plan = created.transfer
  const signed: StockUploadResult['signed'] = []
  const uppy = new Uppy({ autoProceed: false })
  uppy.use(AwsS3, {
    // The server planned the transfer; the plugin must send exactly those parts (their lengths are signed).
    shouldUseMultipart: () => plan.type === 'multipart',
    getChunkSize: () => (plan.type === 'multipart' ? plan.partSize : plan.size),
    generateObjectKey: () => created.key,
    signRequest: async (request) => {
      signed.push({
        method: request.method,
        ...('partNumber' in request ? { partNumber: request.partNumber } : {}),
        withUploadId: 'uploadId' in request,
      })
      const answer = await trpc<{ url: string; headers: Record<string, string>; key: string }>(
        'uploads.sign',
        {
          uploadId: created.upload.id,
          request,
        },
      )
      return { url: answer.url, headers: answer.headers, key: answer.key }
    },
  })
  uppy.addFile({ name: file.name, type: file.type, data: file, source: 'stock-uppy' })
  const result = await uppy.upload()
  const failed = result?.failed ?? []
  if (failed.length > 0) throw new Error(`the stock plugin failed: ${failed.map((f) => f.error).join('; ')}`)
  const record = await trpc<UploadRecord>('uploads.confirm', { uploadId: created.upload.id })
  uppy.destroy()
  return { record, signed }
}

Object.assign(window, { upkitStockUpload: stockUpload })
