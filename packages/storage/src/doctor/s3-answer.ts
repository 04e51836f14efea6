import type { S3StorageConfig } from '../s3-bucket-storage'

/** An S3 error answer, read from its XML body (empty for HEAD answers, which carry no body). */
export interface S3Answer {
  readonly status: number
  readonly code: string
  readonly message: string
  /** Other elements of the error body (`Region`, `Endpoint`, `ServerTime`…), by name. */
  readonly fields: Readonly<Record<string, string>>
  readonly headers: Headers
}

export async function readS3Answer(response: Response): Promise<S3Answer> {
  const text = await response.text().catch(() => '')
  const fields: Record<string, string> = {}
  for (const match of text.matchAll(/<([A-Za-z]+)>([^<]*)<\/\1>/g)) {
    const [, name, value] = match as unknown as [string, string, string]
    fields[name] ??= value
  }
  return {
    status: response.status,
    code: fields.Code ?? `HTTP ${response.status}`,
    message: fields.Message ?? '',
    fields,
    headers: response.headers,
  }
}

export const describeAnswer = (answer: S3Answer) =>
  `${answer.status} ${answer.code}${answer.message ? `: ${answer.message}` : ''}`

export const NTP_FIX =
  "Set this machine's clock by NTP (timedatectl set-ntp true, or chrony/systemd-timesyncd); in a container, fix the host's clock. S3 refuses requests more than 15 minutes off, and presigned URLs expire early or start late."

/**
 * The fix for an answer that refused the request itself (credentials, region, clock, endpoint) whatever the
 * operation was; undefined for other answers. Shared so every check names the root cause, not a symptom.
 */
export function accessFix(answer: S3Answer, config: S3StorageConfig): string | undefined {
  const region = answer.fields.Region ?? answer.headers.get('x-amz-bucket-region') ?? undefined
  switch (answer.code) {
    case 'InvalidAccessKeyId':
      return `S3_ACCESS_KEY_ID is not a key this provider knows: copy it again from the provider's console (R2: the API token's Access Key ID) and check that S3_ENDPOINT is that account's endpoint.`
    case 'SignatureDoesNotMatch':
      if (region !== undefined && region !== config.region) return regionFix(region, config)
      return 'S3_SECRET_ACCESS_KEY does not belong to S3_ACCESS_KEY_ID (or has stray spaces or quotes): copy the secret again; if it is lost (R2 shows it once), create a new key pair.'
    case 'AuthorizationHeaderMalformed':
    case 'AuthorizationQueryParametersError':
    case 'PermanentRedirect':
    case 'IllegalLocationConstraintException':
      if (region !== undefined && region !== config.region) return regionFix(region, config)
      if (answer.code === 'PermanentRedirect') {
        return `The bucket is served at another endpoint (${answer.fields.Endpoint ?? 'see the provider console'}): set S3_REGION to the bucket's region and leave S3_ENDPOINT unset on AWS.`
      }
      return `The signing scope was refused: check S3_REGION ('${config.region}') against the bucket's region.`
    case 'RequestTimeTooSkewed':
      return NTP_FIX
    case 'NoSuchBucket':
      return `The bucket '${config.bucket}' does not exist at ${config.endpoint ?? `AWS ${config.region}`}: create it, or fix S3_BUCKET / S3_ENDPOINT.`
    case 'AccessDenied':
      // A presigned URL's time window is checked against the bucket's clock: a skewed one refuses it this way.
      if (/expired|not valid yet|not yet valid/i.test(answer.message)) return NTP_FIX
      return accessDeniedFix(config)
    case 'AllAccessDisabled':
      return accessDeniedFix(config)
  }
  if (answer.status === 301 || answer.status === 307) {
    return region
      ? regionFix(region, config)
      : 'The bucket answered with a redirect: check S3_REGION and S3_ENDPOINT.'
  }
  return undefined
}

function accessDeniedFix(config: S3StorageConfig): string {
  return `The key is valid but not allowed this operation on '${config.bucket}': give it read, write, list and delete on the bucket (AWS: s3:GetObject, s3:PutObject, s3:DeleteObject, s3:ListBucket, s3:AbortMultipartUpload, s3:ListBucketMultipartUploads, s3:GetLifecycleConfiguration; R2: an "Object Read & Write" token for this bucket).`
}

function regionFix(region: string, config: S3StorageConfig): string {
  return `The bucket is in region '${region}', not '${config.region}': set S3_REGION=${region}.`
}

/** A thrown error (network, timeout, SDK) as one line, and the fix when it says what is wrong. */
export function describeError(error: unknown, config: S3StorageConfig): { detail: string; fix: string } {
  const name = error instanceof Error ? error.name : 'Error'
  const message = error instanceof Error ? error.message : String(error)
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : ''
  if (name === 'TimeoutError' || name === 'AbortError') {
    return {
      detail: 'no answer in time',
      fix: 'The bucket did not answer: check S3_ENDPOINT, the network path and the provider status page.',
    }
  }
  if (message === 'fetch failed' || /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET/.test(message + cause)) {
    return {
      detail: `cannot reach ${config.endpoint ?? `AWS S3 in ${config.region}`}${cause}`,
      fix: 'Check S3_ENDPOINT (scheme, host and port) and that this machine can reach it.',
    }
  }
  const code = (error as { Code?: unknown; name?: unknown }).Code ?? name
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
  if (status !== undefined) {
    const answer: S3Answer = { status, code: String(code), message, fields: {}, headers: new Headers() }
    const fix = accessFix(answer, config)
    return { detail: describeAnswer(answer), fix: fix ?? '' }
  }
  return { detail: `${name}: ${message}${cause}`, fix: '' }
}
