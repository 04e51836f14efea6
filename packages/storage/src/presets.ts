import { redactCredentials } from './redact-credentials'
import type { S3Credentials, S3StorageConfig } from './s3-bucket-storage'

interface PresetBase {
  bucket: string
  credentials: S3Credentials
}

/**
 * Provider presets. Each one only fills in an `S3StorageConfig`; pass the result to
 * `createS3BucketStorage`. Quirks that matter to upkit:
 * - No provider here gets a POST policy: R2 has none, so upload sizes are capped the portable way,
 *   by signing Content-Length into every presigned PUT (single object and each part).
 * - No ACLs are ever set: R2 ignores or rejects them and AWS disables them on new buckets; objects
 *   stay private and are read through presigned GETs.
 */
export const s3Presets = {
  /**
   * Amazon S3. Virtual-hosted addressing (AWS's default; path style is being retired). The endpoint
   * is derived from the region by the SDK; pass one only for FIPS/dual-stack/VPC endpoints.
   * Credentials default to the SDK chain (instance/task role) when omitted.
   */
  aws(options: {
    region: string
    bucket: string
    credentials?: S3Credentials
    endpoint?: string
  }): S3StorageConfig {
    return {
      provider: 'aws',
      bucket: options.bucket,
      region: options.region,
      forcePathStyle: false,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.credentials === undefined ? {} : { credentials: redactCredentials(options.credentials) }),
    }
  },

  /**
   * Cloudflare R2. Endpoint `https://<accountId>.r2.cloudflarestorage.com` (with `.eu` or `.fedramp`
   * before `.r2` for jurisdiction-restricted buckets), region `auto` (R2 accepts only `auto` and
   * its alias `us-east-1`). Path style keeps a single hostname for TLS and CORS. R2 has no ACLs
   * and no POST policy, and the SDK's default upload checksums break its presigned URLs (see
   * `createS3BucketStorage`); the bucket's CORS must be set in the Cloudflare dashboard or with
   * `ensureBucket({ cors })` using an R2 API token that has admin rights.
   */
  r2(options: {
    accountId: string
    bucket: string
    credentials: S3Credentials
    /** Default: none (the account's default jurisdiction). */
    jurisdiction?: 'eu' | 'fedramp'
  }): S3StorageConfig {
    const jurisdiction = options.jurisdiction === undefined ? '' : `.${options.jurisdiction}`
    return {
      provider: 'r2',
      bucket: options.bucket,
      region: 'auto',
      endpoint: `https://${options.accountId}${jurisdiction}.r2.cloudflarestorage.com`,
      forcePathStyle: true,
      credentials: redactCredentials(options.credentials),
    }
  },

  /**
   * MinIO (and most self-hosted S3). Path style because it serves every bucket from one hostname with no
   * wildcard DNS. Region defaults to `us-east-1`, MinIO's own default, which it accepts for signing
   * unless the server was configured with another one.
   */
  minio(options: PresetBase & { endpoint: string; region?: string }): S3StorageConfig {
    return {
      provider: 'minio',
      bucket: options.bucket,
      region: options.region ?? 'us-east-1',
      endpoint: options.endpoint,
      forcePathStyle: true,
      credentials: redactCredentials(options.credentials),
    }
  },

  /**
   * `@upkit/local-s3` for dev, tests and the demo. Path style (it listens on one host:port) and
   * region `us-east-1` (the region it validates signatures with unless started with another).
   */
  local(options: PresetBase & { endpoint: string; region?: string }): S3StorageConfig {
    return {
      provider: 'local',
      bucket: options.bucket,
      region: options.region ?? 'us-east-1',
      endpoint: options.endpoint,
      forcePathStyle: true,
      credentials: redactCredentials(options.credentials),
    }
  },
}
