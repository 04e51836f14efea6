import { Readable } from 'node:stream'
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  type DeleteObjectsCommandOutput,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import type {
  BucketStorage,
  CorsRule,
  ListedObject,
  MultipartUploadInfo,
  PresignedRequest,
  UploadedPart,
} from './bucket-storage'
import { sendContentMd5 } from './content-md5'
import { createDirectUploader } from './direct-upload'
import { assertExpiry, assertLength, assertPartNumber, metadataHeaders, metadataInput } from './input-checks'
import { createQueryPresigner, type QueryPresignInput } from './presign'
import { createStartReader } from './read-start'

export type S3Provider = 'aws' | 'r2' | 'minio' | 'local'

export interface S3Credentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

export interface S3StorageConfig {
  bucket: string
  /** Signing region. R2 uses `auto`; MinIO and local-s3 accept anything and conventionally use `us-east-1`. */
  region: string
  /** Omit for AWS (the SDK derives it from the region); required for every other provider. */
  endpoint?: string
  /**
   * Default false (virtual-hosted `bucket.host`, what AWS prefers). Set true for servers that have one
   * hostname and no wildcard DNS/TLS (MinIO, local-s3, most self-hosted S3).
   */
  forcePathStyle?: boolean
  /** Default: the AWS SDK's credential chain (env, shared config, instance role); only useful on AWS. */
  credentials?: S3Credentials
  /** Which provider's quirks apply; only changes how a missing bucket is created. Default: plain S3. */
  provider?: S3Provider
  /**
   * Server-side PutObject and UploadPart (`upkit migrate`) as one hand-signed request each instead of through the
   * AWS SDK. Default `true`, used only where it can be (a path-style `endpoint` with static `credentials`): for
   * thousands of small files the SDK's per-request work costs more CPU than the copy itself. `false` sends them
   * through the SDK, which AWS's virtual-hosted addressing and credential chains always use.
   */
  directWrites?: boolean
  /**
   * How long a server-side request may go without a byte moving before it is abandoned and retried (the SDK's
   * socket timeout, and readStart's). Default 30 s (readStart's small GET: 10 s): an answer never comes when a
   * bucket or a load balancer drops a request silently, and without a limit the create, confirm or sweep waiting
   * on it waits forever (the SDK sets none). A Complete that takes long keeps its connection alive with
   * whitespace, so it is not cut.
   */
  idleTimeoutMs?: number
}

/** A key only ever presigned (never requested), to learn the bucket's address from the SDK. */
const BUCKET_URL_PROBE = 'upkit-bucket-url-probe'
const UNSIGNED_PAYLOAD = Symbol('upkit.unsignedPayload')
const DELETE_BATCH_SIZE = 1000
/** Where DeleteObjects is missing: enough parallel DELETEs to clear a sweep's batch quickly, few enough for rate limits. */
const SINGLE_DELETE_CONCURRENCY = 8

export function createS3BucketStorage(config: S3StorageConfig): BucketStorage {
  const { bucket } = config
  const client = new S3Client({
    region: config.region,
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    forcePathStyle: config.forcePathStyle ?? false,
    ...(config.credentials === undefined ? {} : { credentials: config.credentials }),
    // Since 3.729 the SDK adds CRC32 checksums to every upload by default. On a presigned URL that
    // means an `x-amz-checksum-crc32` (of an empty body, computed at signing time) or an
    // `x-amz-sdk-checksum-algorithm` parameter the browser cannot satisfy, and R2, older MinIO and
    // other S3-compatible stores reject or mis-handle them. Checksums are then only sent where the S3
    // API requires one (DeleteObjects, PutBucketCors), and responses are not failed over a
    // checksum a provider computes differently. Where one is required it is Content-MD5 (content-md5.ts).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: 5_000, socketTimeout: config.idleTimeoutMs ?? 30_000 },
  })
  sendContentMd5(client)

  // Server-side uploads sign their body as `UNSIGNED-PAYLOAD` (as presigned PUTs do) instead of its sha256:
  // the SDK would hash every byte once more here and the bucket once more there, a second full pass over the
  // data proving nothing that the returned ETag (the bucket's MD5 of the stored bytes) and TLS do not already.
  // AWS, R2 and MinIO accept it; method, key, headers and length stay signed. Only the inputs of `putObject`
  // and `uploadPart` are marked, so presigned URLs (signed by the same stack) are left exactly as they were.
  // The mark is a symbol property because the SDK copies inputs (spreads keep symbols; serialisers skip them).
  const unsigned = <Input extends object>(input: Input): Input =>
    Object.assign(input, { [UNSIGNED_PAYLOAD]: true })
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> }
      if (UNSIGNED_PAYLOAD in args.input && request.headers !== undefined) {
        request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD'
      }
      return next(args)
    },
    { step: 'build', name: 'upkitUnsignedPayload' },
  )

  // Path-style endpoints with static credentials (R2, MinIO, local-s3) send PUTs without the SDK: see
  // direct-upload.ts. AWS, or a credential chain, keeps the SDK for those too.
  const direct =
    config.directWrites !== false &&
    config.endpoint !== undefined &&
    config.forcePathStyle === true &&
    config.credentials !== undefined
      ? createDirectUploader({
          endpoint: config.endpoint,
          bucket,
          region: config.region,
          credentials: config.credentials,
        })
      : null

  // Every presigned URL is signed by hand (presign.ts): the SDK's presigner cost more CPU per URL than the rest of
  // an upload's `create`. The SDK still resolves where the bucket lives, once, by presigning a probe: AWS's
  // virtual-hosted or path-style address, FIPS/dual-stack endpoints and odd bucket names stay the SDK's call.
  let bucketUrl: Promise<URL> | undefined
  const resolveBucketUrl = () => {
    bucketUrl ??= getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: BUCKET_URL_PROBE }), {
      expiresIn: 60,
    }).then((signed) => {
      const url = new URL(signed)
      url.search = ''
      url.pathname = url.pathname.slice(0, -BUCKET_URL_PROBE.length)
      return url
    })
    bucketUrl.catch(() => {
      bucketUrl = undefined
    })
    return bucketUrl
  }
  const staticCredentials = config.credentials
  const presignUrl = createQueryPresigner({
    bucketUrl: resolveBucketUrl,
    region: config.region,
    // Static credentials as given; otherwise the SDK's chain (env, shared config, instance role), which memoises
    // and refreshes them itself.
    credentials: staticCredentials ? () => staticCredentials : () => client.config.credentials(),
  })

  async function sign(
    method: PresignedRequest['method'],
    input: Omit<QueryPresignInput, 'method'>,
  ): Promise<PresignedRequest> {
    assertExpiry(input.expiresInSeconds)
    return { url: await presignUrl({ method, ...input }), method, headers: { ...input.headers } }
  }

  const describe = `s3 ${config.endpoint ?? `aws ${config.region}`}/${bucket}`
  const readStart = createStartReader({
    presign: presignUrl,
    head: (key) => storage.head(key),
    ...(config.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: config.idleTimeoutMs }),
  })

  const storage: BucketStorage = {
    // For health reports and logs: where the bucket is, never the credentials.
    describe,
    async presignPut({ key, contentType, contentLength, expiresInSeconds, metadata }) {
      assertLength(contentLength, 'contentLength')
      metadataInput(metadata)
      return sign('PUT', {
        key,
        query: { 'x-id': 'PutObject' },
        headers: { 'content-type': contentType, 'if-none-match': '*', ...metadataHeaders(metadata) },
        contentLength,
        expiresInSeconds,
      })
    },

    async presignCreateMultipartUpload({ key, contentType, metadata, expiresInSeconds }) {
      metadataInput(metadata)
      return sign('POST', {
        key,
        query: { uploads: '' },
        headers: { 'content-type': contentType, ...metadataHeaders(metadata) },
        expiresInSeconds,
      })
    },

    async presignUploadPart({ key, uploadId, partNumber, contentLength, expiresInSeconds }) {
      assertPartNumber(partNumber)
      assertLength(contentLength, 'contentLength')
      return sign('PUT', {
        key,
        query: { partNumber: String(partNumber), uploadId, 'x-id': 'UploadPart' },
        contentLength,
        expiresInSeconds,
      })
    },

    async presignCompleteMultipartUpload({ key, uploadId, expiresInSeconds }) {
      return sign('POST', { key, query: { uploadId }, headers: { 'if-none-match': '*' }, expiresInSeconds })
    },

    async presignListParts({ key, uploadId, expiresInSeconds }) {
      return sign('GET', { key, query: { uploadId, 'x-id': 'ListParts' }, expiresInSeconds })
    },

    async presignAbortMultipartUpload({ key, uploadId, expiresInSeconds }) {
      return sign('DELETE', { key, query: { uploadId, 'x-id': 'AbortMultipartUpload' }, expiresInSeconds })
    },

    async createMultipartUpload({ key, contentType, metadata }) {
      const output = await client.send(
        new CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          ContentType: contentType,
          ...metadataInput(metadata),
        }),
      )
      if (!output.UploadId) throw new Error(`CreateMultipartUpload for ${key} returned no UploadId`)
      return { uploadId: output.UploadId }
    },

    async uploadPart({ key, uploadId, partNumber, body, contentLength }) {
      assertPartNumber(partNumber)
      assertLength(contentLength, 'contentLength')
      const output = direct
        ? {
            ETag: (
              await direct.put({ key, body, contentLength, contentType: '', part: { uploadId, partNumber } })
            ).etag,
          }
        : await client.send(
            new UploadPartCommand(
              unsigned({
                Bucket: bucket,
                Key: key,
                UploadId: uploadId,
                PartNumber: partNumber,
                Body: body,
                ContentLength: contentLength,
              }),
            ),
          )
      if (!output.ETag) throw new Error(`UploadPart ${partNumber} for ${key} returned no ETag`)
      return { etag: output.ETag }
    },

    async completeMultipartUpload({ key, uploadId, parts }) {
      const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber)
      const output = await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: {
            Parts: sorted.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })),
          },
        }),
      )
      return { etag: output.ETag }
    },

    async listParts({ key, uploadId }) {
      const parts: UploadedPart[] = []
      let marker: string | undefined
      do {
        const output = await client.send(
          new ListPartsCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            ...(marker === undefined ? {} : { PartNumberMarker: marker }),
          }),
        )
        for (const part of output.Parts ?? []) {
          if (part.PartNumber === undefined || part.ETag === undefined) continue
          parts.push({ partNumber: part.PartNumber, etag: part.ETag, size: part.Size ?? 0 })
        }
        marker = output.IsTruncated ? output.NextPartNumberMarker : undefined
      } while (marker !== undefined)
      return parts.sort((a, b) => a.partNumber - b.partNumber)
    },

    async abortMultipartUpload({ key, uploadId }) {
      try {
        await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
      } catch (error) {
        // Already gone: what an abort wants.
        if (!(error instanceof Error && error.name === 'NoSuchUpload')) throw error
      }
    },

    async listMultipartUploads(input = {}) {
      const uploads: MultipartUploadInfo[] = []
      let keyMarker: string | undefined
      let uploadIdMarker: string | undefined
      let truncated = false
      do {
        const output = await client.send(
          new ListMultipartUploadsCommand({
            Bucket: bucket,
            ...(input.prefix === undefined ? {} : { Prefix: input.prefix }),
            ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
            ...(uploadIdMarker === undefined ? {} : { UploadIdMarker: uploadIdMarker }),
          }),
        )
        for (const upload of output.Uploads ?? []) {
          if (upload.Key === undefined || upload.UploadId === undefined) continue
          uploads.push({ key: upload.Key, uploadId: upload.UploadId, initiated: upload.Initiated })
        }
        keyMarker = output.NextKeyMarker
        uploadIdMarker = output.NextUploadIdMarker
        // A provider that claims more pages but gives no marker would loop forever.
        truncated = output.IsTruncated === true && keyMarker !== undefined
      } while (truncated)
      return uploads
    },

    async presignGet({
      key,
      expiresInSeconds,
      responseContentDisposition,
      responseContentType,
      responseCacheControl,
    }) {
      const query: Record<string, string> = { 'x-id': 'GetObject' }
      if (responseCacheControl !== undefined) query['response-cache-control'] = responseCacheControl
      if (responseContentDisposition !== undefined) {
        query['response-content-disposition'] = responseContentDisposition
      }
      if (responseContentType !== undefined) query['response-content-type'] = responseContentType
      return (await sign('GET', { key, query, expiresInSeconds })).url
    },

    async head(key) {
      try {
        const output = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
        return {
          size: output.ContentLength ?? 0,
          contentType: output.ContentType,
          etag: output.ETag,
          lastModified: output.LastModified,
          cacheControl: output.CacheControl,
          contentEncoding: output.ContentEncoding,
        }
      } catch (error) {
        if (statusOf(error) === 404) return null
        throw error
      }
    },

    async readRange(key, start, endInclusive) {
      assertLength(start, 'start')
      assertLength(endInclusive, 'endInclusive')
      if (endInclusive < start) throw new RangeError('readRange: endInclusive must be >= start')
      try {
        const output = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${endInclusive}` }),
        )
        const bytes = (await output.Body?.transformToByteArray()) ?? new Uint8Array()
        // A server that ignores Range answers 200 with the whole object.
        return output.$metadata.httpStatusCode === 206 ? bytes : bytes.subarray(start, endInclusive + 1)
      } catch (error) {
        // 416: the object is shorter than `start` (including empty objects).
        if (statusOf(error) === 416) return new Uint8Array()
        throw error
      }
    },

    async readStart(key, length) {
      return readStart(key, length)
    },

    async putObject({ key, body, contentType, contentLength }) {
      assertLength(contentLength, 'contentLength')
      if (direct) return direct.put({ key, body, contentType, contentLength })
      const output = await client.send(
        new PutObjectCommand(
          unsigned({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentType: contentType,
            ContentLength: contentLength,
          }),
        ),
      )
      return { etag: output.ETag }
    },

    async getObjectStream(key) {
      const output = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      if (!(output.Body instanceof Readable)) throw new Error(`GetObject for ${key} returned no Node stream`)
      return output.Body
    },

    async deleteObject(key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))
    },

    async deleteObjects(keys) {
      const failures: string[] = []
      for (let offset = 0; offset < keys.length; offset += DELETE_BATCH_SIZE) {
        const batch = keys.slice(offset, offset + DELETE_BATCH_SIZE)
        if (!batchDeletes) {
          failures.push(...(await deleteOneByOne(batch)))
          continue
        }
        let output: DeleteObjectsCommandOutput
        try {
          output = await client.send(
            new DeleteObjectsCommand({
              Bucket: bucket,
              Delete: { Objects: batch.map((key) => ({ Key: key })), Quiet: true },
            }),
          )
        } catch (error) {
          if (!isNotImplemented(error)) throw error
          // GCS's XML API and some gateways have no multi-object delete: from now on, one DELETE per key.
          batchDeletes = false
          failures.push(...(await deleteOneByOne(batch)))
          continue
        }
        for (const error of output.Errors ?? []) {
          failures.push(`${error.Key ?? '?'}: ${error.Code ?? 'Error'} ${error.Message ?? ''}`.trim())
        }
      }
      if (failures.length > 0) {
        throw new Error(`Failed to delete ${failures.length} object(s): ${failures.join('; ')}`)
      }
    },

    async *list({ prefix, startAfter }) {
      let token: string | undefined
      do {
        const output = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            ...(startAfter === undefined ? {} : { StartAfter: startAfter }),
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        )
        for (const object of output.Contents ?? []) {
          if (object.Key === undefined) continue
          const listed: ListedObject = {
            key: object.Key,
            size: object.Size ?? 0,
            lastModified: object.LastModified,
          }
          yield listed
        }
        token = output.IsTruncated ? output.NextContinuationToken : undefined
      } while (token !== undefined)
    },

    async checkBucket() {
      // HeadBucket proves credentials, endpoint and bucket at once, without listing anything.
      await client.send(new HeadBucketCommand({ Bucket: bucket }))
    },

    async ensureBucket(input = {}) {
      if (!(await bucketExists())) {
        try {
          await client.send(new CreateBucketCommand({ Bucket: bucket, ...createBucketConfiguration(config) }))
        } catch (error) {
          // Another process booting at the same time won the race: the bucket is there, which is the goal.
          if (!(error instanceof Error && error.name === 'BucketAlreadyOwnedByYou')) throw error
        }
      }
      if (input.cors === undefined) return { cors: 'unchanged' }
      try {
        await client.send(
          new PutBucketCorsCommand({
            Bucket: bucket,
            CORSConfiguration: {
              CORSRules: input.cors.map((rule) => ({
                AllowedOrigins: rule.allowedOrigins,
                AllowedMethods: rule.allowedMethods,
                ...(rule.allowedHeaders === undefined ? {} : { AllowedHeaders: rule.allowedHeaders }),
                ...(rule.exposeHeaders === undefined ? {} : { ExposeHeaders: rule.exposeHeaders }),
                ...(rule.maxAgeSeconds === undefined ? {} : { MaxAgeSeconds: rule.maxAgeSeconds }),
              })),
            },
          }),
        )
      } catch (error) {
        if (!isNotImplemented(error)) throw error
        return { cors: 'unsupported', message: corsUnsupportedMessage(describe, input.cors) }
      }
      return { cors: 'applied' }
    },
  }

  let batchDeletes = true
  /** DeleteObject per key, 8 at a time; returns the failures as DeleteObjects reports them. */
  async function deleteOneByOne(keys: readonly string[]): Promise<string[]> {
    const failures: string[] = []
    for (let i = 0; i < keys.length; i += SINGLE_DELETE_CONCURRENCY) {
      await Promise.all(
        keys.slice(i, i + SINGLE_DELETE_CONCURRENCY).map(async (key) => {
          try {
            await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))
          } catch (error) {
            failures.push(
              `${key}: ${error instanceof Error ? `${error.name} ${error.message}` : String(error)}`,
            )
          }
        }),
      )
    }
    return failures
  }

  async function bucketExists(): Promise<boolean> {
    try {
      await client.send(new HeadBucketCommand({ Bucket: bucket }))
      return true
    } catch (error) {
      if (statusOf(error) === 404) return false
      throw error
    }
  }

  return storage
}

/**
 * AWS creates buckets in us-east-1 unless told otherwise (and refuses a mismatching signing region);
 * R2's `auto` is not a location, so it is never sent.
 */
function createBucketConfiguration(config: S3StorageConfig) {
  if (config.region === 'us-east-1' || config.region === 'auto' || config.provider === 'r2') return {}
  return { CreateBucketConfiguration: { LocationConstraint: config.region as never } }
}

/** The provider has no such API at all (501), as opposed to refusing this caller or this input. */
function isNotImplemented(error: unknown): boolean {
  return (error instanceof Error && error.name === 'NotImplemented') || statusOf(error) === 501
}

function corsUnsupportedMessage(describe: string, rules: readonly CorsRule[]): string {
  const all = (pick: (rule: CorsRule) => readonly string[] | undefined) =>
    [...new Set(rules.flatMap((rule) => pick(rule) ?? []))].join(', ') || 'none'
  return `${describe} has no bucket CORS API (PutBucketCors answered 501 NotImplemented): set CORS in the provider's console or native API instead. Origins: ${all((r) => r.allowedOrigins)}; methods: ${all((r) => r.allowedMethods)}; headers: ${all((r) => r.allowedHeaders)}; exposed: ${all((r) => r.exposeHeaders)} (browsers cannot complete multipart uploads without ETag)`
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined
  const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata
  return metadata?.httpStatusCode
}
