import type { IncomingMessage } from 'node:http'
import { isIP } from 'node:net'
import { S3Error } from './errors'

/**
 * Behaviours of S3-compatible providers that are stricter than (or missing from) AWS S3's, each switchable so an
 * app can be tested against the provider it will meet. All default off: the server then behaves like AWS S3, which
 * is what the SDKs and most apps are written against.
 */
export interface LocalS3Quirks {
  /**
   * DeleteObjects and PutBucketCors without `Content-MD5` are refused (400 InvalidRequest), as older Ceph RGW,
   * OpenStack Swift's s3api and others do: they predate the `x-amz-checksum-*` headers AWS SDK v3 sends instead.
   */
  requireContentMd5?: boolean
  /**
   * DeleteObjects (multi-object delete) answers 501 NotImplemented, as on GCS's XML API and some S3 gateways: each
   * object must then be deleted on its own.
   */
  noDeleteObjects?: boolean
  /**
   * The bucket CORS API (`?cors`) answers 501 NotImplemented, as on providers where CORS is set in a console or a
   * native API (Backblaze B2, GCS interop, Swift). Rules given in `buckets[].cors` still apply: "set elsewhere".
   */
  noCorsApi?: boolean
  /**
   * Virtual-hosted-style requests (`Host: <bucket>.<host>`) are refused (400 InvalidRequest) instead of served, as on
   * servers with one hostname and no wildcard DNS (MinIO without MINIO_DOMAIN, Ceph without rgw_dns_name).
   */
  pathStyleOnly?: boolean
  /**
   * Largest user metadata (sum of the UTF-8 bytes of each `x-amz-meta-*` name, without the prefix, and value) a
   * PutObject or CreateMultipartUpload may carry; larger gets 400 MetadataTooLarge. AWS's limit is 2 KiB.
   */
  maxUserMetadataBytes?: number
}

/** What `strict: true` turns on: every quirk, the metadata limit at AWS's 2 KiB. */
export const STRICT_QUIRKS: Readonly<Required<LocalS3Quirks>> = {
  requireContentMd5: true,
  noDeleteObjects: true,
  noCorsApi: true,
  pathStyleOnly: true,
  maxUserMetadataBytes: 2048,
}

export const QUIRK_NAMES = Object.keys(STRICT_QUIRKS) as (keyof LocalS3Quirks)[]

/** `true` means every quirk; an object picks some; `false`/undefined none. */
export function resolveQuirks(strict: boolean | LocalS3Quirks | undefined): LocalS3Quirks {
  if (strict === true) return { ...STRICT_QUIRKS }
  if (!strict) return {}
  const limit = strict.maxUserMetadataBytes
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit > 0)) {
    throw new Error(`local-s3: maxUserMetadataBytes must be a positive integer, got ${limit}`)
  }
  return { ...strict }
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** The exact answer AWS gave (and Ceph/Swift give) to a DeleteObjects or PutBucketCors without Content-MD5. */
export function assertContentMd5(quirks: LocalS3Quirks, req: IncomingMessage): void {
  if (quirks.requireContentMd5 && headerOf(req, 'content-md5') === undefined) {
    throw new S3Error('InvalidRequest', 400, 'Missing required header for this request: Content-MD5')
  }
}

export function assertDeleteObjectsApi(quirks: LocalS3Quirks): void {
  if (quirks.noDeleteObjects) {
    throw new S3Error(
      'NotImplemented',
      501,
      'A header or query you provided implies functionality that is not implemented: multi-object delete.',
    )
  }
}

export function assertCorsApi(quirks: LocalS3Quirks): void {
  if (quirks.noCorsApi) {
    throw new S3Error(
      'NotImplemented',
      501,
      'A header or query you provided implies functionality that is not implemented: the bucket CORS API. Set CORS in the provider console.',
    )
  }
}

/**
 * The bucket a request names in its Host (`uploads.localhost:9000` -> `uploads`) when that is an existing bucket,
 * i.e. a virtual-hosted-style request; undefined for path style. IP hosts are never virtual-hosted.
 */
export function virtualHostBucket(
  req: IncomingMessage,
  isBucket: (name: string) => boolean,
): string | undefined {
  const host = headerOf(req, 'host') ?? ''
  const hostname = host.startsWith('[') ? '' : (host.split(':')[0] ?? '')
  if (hostname === '' || isIP(hostname) !== 0) return undefined
  const dot = hostname.indexOf('.')
  if (dot <= 0) return undefined
  const label = hostname.slice(0, dot).toLowerCase()
  return isBucket(label) ? label : undefined
}

export function refuseVirtualHost(bucket: string): S3Error {
  return new S3Error(
    'InvalidRequest',
    400,
    `Virtual-hosted-style requests are not supported by this server (Host names bucket "${bucket}"); use path-style addressing (forcePathStyle: true, S3_FORCE_PATH_STYLE=true).`,
    { BucketName: bucket },
  )
}

/** User metadata size as AWS counts it: UTF-8 bytes of each name (after `x-amz-meta-`) plus its value. */
export function assertMetadataSize(quirks: LocalS3Quirks, metadata: Record<string, string>): void {
  const limit = quirks.maxUserMetadataBytes
  if (limit === undefined) return
  let size = 0
  for (const [name, value] of Object.entries(metadata)) {
    // Node hands header values over as latin1 (one char per byte on the wire), so that counts the bytes sent.
    size += name.length - 'x-amz-meta-'.length + Buffer.byteLength(value, 'latin1')
  }
  if (size > limit) {
    throw new S3Error(
      'MetadataTooLarge',
      400,
      'Your metadata headers exceed the maximum allowed metadata size.',
      { Size: String(size), MaxSizeAllowed: String(limit) },
    )
  }
}
