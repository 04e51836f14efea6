import { createHash, createHmac } from 'node:crypto'
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import type { BucketStorage } from '../bucket-storage'
import { encode, type PresignCredentials } from '../presign'
import { createS3BucketStorage, type S3StorageConfig } from '../s3-bucket-storage'

const BUCKET_URL_PROBE = 'upkit-doctor-url-probe'

export interface SignedRequestInput {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD'
  /** '' for a bucket-level request. */
  readonly key?: string
  readonly query?: Readonly<Record<string, string>>
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string | Uint8Array
  readonly signal?: AbortSignal
}

/** What every check works with: the app's own storage, plus raw signed requests for what it has no method for. */
export interface DoctorClient {
  readonly config: S3StorageConfig
  readonly storage: BucketStorage
  /** The bucket's address with a trailing slash, as the app's presigned URLs use it. */
  bucketUrl(): Promise<URL>
  objectUrl(key: string): Promise<string>
  /**
   * A header-signed request (SigV4 with `Authorization`, the body's sha256 signed), so the provider answers with
   * its real error codes: a presigned URL would turn a skewed clock into "expired", not RequestTimeTooSkewed.
   */
  signed(input: SignedRequestInput): Promise<Response>
  close(): void
}

export function createDoctorClient(
  config: S3StorageConfig,
  storage = createS3BucketStorage(config),
): DoctorClient {
  const sdk = new S3Client({
    region: config.region,
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    forcePathStyle: config.forcePathStyle ?? false,
    ...(config.credentials === undefined ? {} : { credentials: config.credentials }),
  })
  let bucketUrl: Promise<URL> | undefined
  // The SDK decides where the bucket lives (virtual-hosted or path style, FIPS endpoints), as it does for the app.
  const resolveBucketUrl = () => {
    bucketUrl ??= getSignedUrl(sdk, new GetObjectCommand({ Bucket: config.bucket, Key: BUCKET_URL_PROBE }), {
      expiresIn: 60,
    }).then((signed) => {
      const url = new URL(signed)
      url.search = ''
      url.pathname = url.pathname.slice(0, -BUCKET_URL_PROBE.length)
      return url
    })
    return bucketUrl
  }
  const credentials = async (): Promise<PresignCredentials> => config.credentials ?? sdk.config.credentials()
  const encodeKey = (key: string) => key.split('/').map(encode).join('/')

  return {
    config,
    storage,
    bucketUrl: resolveBucketUrl,
    async objectUrl(key) {
      const base = await resolveBucketUrl()
      return `${base.protocol}//${base.host}${base.pathname}${encodeKey(key)}`
    },
    async signed(input) {
      const base = await resolveBucketUrl()
      const path = `${base.pathname}${encodeKey(input.key ?? '')}`
      // SigV4 sorts by encoded name (then value): sorting whole `name=value` strings would put `a-b` before `a`.
      const pairs = Object.entries(input.query ?? {})
        .map(([name, value]) => [encode(name), encode(value)] as const)
        .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
        .map(([name, value]) => `${name}=${value}`)
      const query = pairs.join('&')
      const body = input.body === undefined ? undefined : Buffer.from(input.body)
      const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '')
      const date = amzDate.slice(0, 8)
      const identity = await credentials()
      const payloadHash = createHash('sha256')
        .update(body ?? '')
        .digest('hex')
      const headers: Record<string, string> = {
        host: base.host,
        'x-amz-date': amzDate,
        'x-amz-content-sha256': payloadHash,
      }
      if (identity.sessionToken) headers['x-amz-security-token'] = identity.sessionToken
      for (const [name, value] of Object.entries(input.headers ?? {})) headers[name.toLowerCase()] = value
      const names = Object.keys(headers).sort()
      const scope = `${date}/${config.region}/s3/aws4_request`
      const canonical = [
        input.method,
        path,
        query,
        names.map((name) => `${name}:${(headers[name] as string).trim()}\n`).join(''),
        names.join(';'),
        payloadHash,
      ].join('\n')
      const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`
      const key = [date, config.region, 's3', 'aws4_request'].reduce<Buffer | string>(
        (k, part) => hmac(k, part),
        `AWS4${identity.secretAccessKey}`,
      )
      const signature = createHmac('sha256', key).update(stringToSign).digest('hex')
      const { host: _host, ...sent } = headers
      return fetch(`${base.protocol}//${base.host}${path}${query ? `?${query}` : ''}`, {
        method: input.method,
        headers: {
          ...sent,
          authorization: `AWS4-HMAC-SHA256 Credential=${identity.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
        },
        ...(body === undefined ? {} : { body }),
        redirect: 'manual',
        ...(input.signal === undefined ? {} : { signal: input.signal }),
      })
    },
    close() {
      sdk.destroy()
    },
  }
}

const hmac = (key: string | Buffer, text: string) => createHmac('sha256', key).update(text).digest()
