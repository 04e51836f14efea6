import type { BucketStorage, CorsRule } from './bucket-storage'

/**
 * Aborts every in-progress multipart upload of exactly `key` (listing by prefix, then filtering, because a prefix
 * also matches longer keys). Used when an upload is cancelled or a copy is retried: whoever created those uploads,
 * no parts of them should linger (and be billed) in the bucket.
 */
export async function abortMultipartUploads(storage: BucketStorage, key: string): Promise<void> {
  const uploads = await storage.listMultipartUploads({ prefix: key })
  await Promise.all(
    uploads
      .filter((upload) => upload.key === key)
      .map((upload) => storage.abortMultipartUpload({ key: upload.key, uploadId: upload.uploadId })),
  )
}

/**
 * The CORS rule a bucket needs for browsers to upload straight to it from `origins`: the methods the uploader
 * uses (PUT, multipart POST, ListParts GET, Abort DELETE, HEAD), any request header (signed headers vary), and
 * `ETag` exposed, without which a browser cannot complete a multipart upload.
 */
export function browserUploadCors(origins: readonly string[]): CorsRule[] {
  return [
    {
      allowedOrigins: [...origins],
      allowedMethods: ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'],
      allowedHeaders: ['*'],
      exposeHeaders: ['ETag'],
      maxAgeSeconds: 3600,
    },
  ]
}
