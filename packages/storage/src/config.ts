import { redactCredentials } from './redact-credentials'
import type { S3Provider, S3StorageConfig } from './s3-bucket-storage'

export type StorageConfigResult = { ok: true; config: S3StorageConfig } | { ok: false; errors: string[] }

const PROVIDERS: readonly S3Provider[] = ['aws', 'r2', 'minio', 'local']
const REGION = /^[a-z0-9]+(-[a-z0-9]+)*$/

/**
 * Reads S3_ENDPOINT, S3_REGION, S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY,
 * S3_FORCE_PATH_STYLE and S3_PROVIDER (aws | r2 | minio | local). Empty values count as unset.
 * Returns every problem at once, one message per variable, so a deploy fails with the full list;
 * secrets never appear in a message.
 *
 * Defaults, chosen so the usual setups need the fewest variables:
 * - S3_PROVIDER: `r2` for an `*.r2.cloudflarestorage.com` endpoint, `aws` without an endpoint,
 *   otherwise none (plain S3-compatible).
 * - S3_REGION: required for AWS; `auto` for R2; `us-east-1` otherwise (what MinIO and local-s3 expect).
 * - S3_FORCE_PATH_STYLE: false for AWS (virtual-hosted is its default), true for everything else
 *   (one hostname, no wildcard DNS or TLS needed).
 * - Credentials: both keys or neither; neither only on AWS, where the SDK's chain (instance or task
 *   role) supplies them.
 */
export function storageConfigFromEnv(env: Readonly<Record<string, string | undefined>>): StorageConfigResult {
  const errors: string[] = []
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim()
    return value === undefined || value === '' ? undefined : value
  }

  const rawProvider = read('S3_PROVIDER')
  let provider: S3Provider | undefined
  if (rawProvider !== undefined) {
    const lower = rawProvider.toLowerCase()
    if ((PROVIDERS as readonly string[]).includes(lower)) provider = lower as S3Provider
    else errors.push(`S3_PROVIDER must be one of ${PROVIDERS.join(', ')}, got '${rawProvider}'`)
  }

  const rawEndpoint = read('S3_ENDPOINT')
  const endpoint = parseEndpoint(rawEndpoint, errors)
  if (rawProvider === undefined) {
    if (rawEndpoint === undefined) provider = 'aws'
    else if (endpoint?.endsWith('.r2.cloudflarestorage.com')) provider = 'r2'
  }
  if (rawEndpoint === undefined && provider !== undefined && provider !== 'aws') {
    errors.push(`S3_ENDPOINT is required when S3_PROVIDER is ${provider}`)
  }

  const region = read('S3_REGION')
  let resolvedRegion: string | undefined
  if (region !== undefined) {
    if (!REGION.test(region)) errors.push(`S3_REGION must look like 'us-east-1' or 'auto', got '${region}'`)
    else if (provider === 'r2' && region !== 'auto' && region !== 'us-east-1') {
      errors.push(`S3_REGION must be 'auto' for Cloudflare R2, got '${region}'`)
    } else resolvedRegion = region
  } else if (provider === 'aws') {
    errors.push("S3_REGION is required for AWS S3 (e.g. 'eu-west-1')")
  } else {
    resolvedRegion = provider === 'r2' ? 'auto' : 'us-east-1'
  }

  const rawPathStyle = read('S3_FORCE_PATH_STYLE')
  let forcePathStyle = provider !== 'aws'
  if (rawPathStyle !== undefined) {
    const lower = rawPathStyle.toLowerCase()
    if (lower === 'true' || lower === 'false') forcePathStyle = lower === 'true'
    else errors.push(`S3_FORCE_PATH_STYLE must be true or false, got '${rawPathStyle}'`)
  }

  const bucket = read('S3_BUCKET')
  if (bucket === undefined) errors.push('S3_BUCKET is required')
  else errors.push(...bucketNameErrors(bucket, provider))

  const accessKeyId = read('S3_ACCESS_KEY_ID')
  const secretAccessKey = read('S3_SECRET_ACCESS_KEY')
  if (accessKeyId !== undefined && secretAccessKey === undefined) {
    errors.push('S3_SECRET_ACCESS_KEY is required when S3_ACCESS_KEY_ID is set')
  } else if (accessKeyId === undefined && secretAccessKey !== undefined) {
    errors.push('S3_ACCESS_KEY_ID is required when S3_SECRET_ACCESS_KEY is set')
  } else if (accessKeyId === undefined && provider !== 'aws') {
    errors.push(
      `S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are required${provider ? ` for ${provider}` : ' outside AWS'}`,
    )
  }

  if (errors.length > 0 || bucket === undefined || resolvedRegion === undefined) {
    return { ok: false, errors }
  }
  return {
    ok: true,
    config: {
      bucket,
      region: resolvedRegion,
      forcePathStyle,
      ...(provider === undefined ? {} : { provider }),
      ...(endpoint === undefined ? {} : { endpoint }),
      ...(accessKeyId === undefined || secretAccessKey === undefined
        ? {}
        : { credentials: redactCredentials({ accessKeyId, secretAccessKey }) }),
    },
  }
}

function parseEndpoint(raw: string | undefined, errors: string[]): string | undefined {
  if (raw === undefined) return undefined
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    errors.push(`S3_ENDPOINT must be an http(s) URL such as 'http://localhost:9000', got '${raw}'`)
    return undefined
  }
  if (url.username !== '' || url.password !== '') {
    // The value itself is not echoed: it holds a password.
    errors.push('S3_ENDPOINT must not contain credentials; use S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY')
    return undefined
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    errors.push(`S3_ENDPOINT must be an http(s) URL, got '${raw}'`)
    return undefined
  }
  if (url.search !== '' || url.hash !== '') {
    errors.push(`S3_ENDPOINT must not have a query or fragment, got '${raw}'`)
    return undefined
  }
  if (url.pathname !== '/') {
    // R2's dashboard shows the S3 API URL with the bucket appended; the SDK would then double it.
    errors.push(
      `S3_ENDPOINT must not include a path, got '${url.pathname}' (put the bucket name in S3_BUCKET, not in the URL)`,
    )
    return undefined
  }
  return url.origin
}

/** AWS's general-purpose bucket naming rules; R2 additionally forbids dots. */
function bucketNameErrors(bucket: string, provider: S3Provider | undefined): string[] {
  const errors: string[] = []
  if (bucket.length < 3 || bucket.length > 63) {
    errors.push(`S3_BUCKET must be 3 to 63 characters long, got ${bucket.length} ('${bucket}')`)
  }
  const allowed = provider === 'r2' ? /^[a-z0-9-]+$/ : /^[a-z0-9.-]+$/
  if (!allowed.test(bucket)) {
    errors.push(
      provider === 'r2'
        ? `S3_BUCKET may contain only lowercase letters, digits and hyphens on R2, got '${bucket}'`
        : `S3_BUCKET may contain only lowercase letters, digits, dots and hyphens, got '${bucket}'`,
    )
  } else if (!/^[a-z0-9].*[a-z0-9]$/.test(bucket)) {
    errors.push(`S3_BUCKET must start and end with a letter or digit, got '${bucket}'`)
  } else if (bucket.includes('..')) {
    errors.push(`S3_BUCKET must not contain two dots in a row, got '${bucket}'`)
  } else if (/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) {
    errors.push(`S3_BUCKET must not look like an IP address, got '${bucket}'`)
  }
  return errors
}
