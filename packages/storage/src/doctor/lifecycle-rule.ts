import { createHash } from 'node:crypto'
import type { S3StorageConfig } from '../s3-bucket-storage'
import { createDoctorClient, type DoctorClient } from './doctor-client'
import { describeAnswer, readS3Answer } from './s3-answer'

export const ABORT_RULE_ID = 'upkit-abort-incomplete-multipart'
/** One day: an upload left that long is abandoned (upkit's signed URLs live minutes), and parts are billed. */
export const ABORT_AFTER_DAYS = 1

export interface AbortRuleFound {
  readonly id: string | undefined
  readonly prefix: string
  readonly days: number
}

/**
 * The enabled `AbortIncompleteMultipartUpload` rules of a LifecycleConfiguration document that cover `keyPrefix`
 * (rules for every key, or for a prefix of it). Tag or size filters make a rule not count: upkit's uploads carry none.
 */
export function abortRulesCovering(xml: string, keyPrefix: string): AbortRuleFound[] {
  const found: AbortRuleFound[] = []
  for (const [, rule = ''] of xml.matchAll(/<Rule>([\s\S]*?)<\/Rule>/g)) {
    if (!/<Status>\s*Enabled\s*<\/Status>/.test(rule)) continue
    const days =
      /<AbortIncompleteMultipartUpload>[\s\S]*?<DaysAfterInitiation>\s*(\d+)\s*<\/DaysAfterInitiation>/.exec(
        rule,
      )?.[1]
    if (days === undefined) continue
    if (/<(Tag|And|ObjectSizeGreaterThan|ObjectSizeLessThan)>/.test(rule)) continue
    const prefix = /<Prefix>([^<]*)<\/Prefix>/.exec(rule)?.[1] ?? ''
    if (!keyPrefix.startsWith(prefix)) continue
    found.push({ id: /<ID>([^<]*)<\/ID>/.exec(rule)?.[1], prefix, days: Number(days) })
  }
  return found
}

/** The exact rule to add, said the way this provider's operators add it. */
export function abortRuleFix(config: S3StorageConfig): string {
  const json = `{"Rules":[{"ID":"${ABORT_RULE_ID}","Status":"Enabled","Filter":{"Prefix":""},"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":${ABORT_AFTER_DAYS}}}]}`
  const cli = (endpoint: string) =>
    `aws s3api put-bucket-lifecycle-configuration${endpoint} --bucket ${config.bucket} --lifecycle-configuration '${json}' (replaces existing rules: merge them in)`
  switch (config.provider) {
    case 'r2':
      return `Add an object lifecycle rule "Abort incomplete multipart uploads after ${ABORT_AFTER_DAYS} day" for all objects: Cloudflare dashboard > R2 > ${config.bucket} > Settings > Object lifecycle rules, or ${cli(` --endpoint-url ${config.endpoint ?? 'https://<account>.r2.cloudflarestorage.com'}`)}.`
    case 'minio':
      return `MinIO has no AbortIncompleteMultipartUpload action; it removes stale uploads itself after api stale_uploads_expiry (default 24h; mc admin config get ALIAS api). upkit's sweeper aborts the ones it knows.`
    case 'local':
      return `startLocalS3({ buckets: [{ name: '${config.bucket}', lifecycle: [{ abortIncompleteMultipartUploadDays: ${ABORT_AFTER_DAYS} }] }] }), or ensureAbortIncompleteMultipartRule(config) at start.`
    case 'aws':
      return `Add the rule: ${cli('')}, or in the console: S3 > ${config.bucket} > Management > Lifecycle rules > "Delete expired object delete markers or incomplete multipart uploads".`
    default:
      return `Add the rule with the S3 API: ${cli(config.endpoint ? ` --endpoint-url ${config.endpoint}` : '')}, or ensureAbortIncompleteMultipartRule(config).`
  }
}

/**
 * Makes sure the bucket aborts incomplete multipart uploads after `days` (default 1): nothing when a rule covering
 * every key already does, otherwise the rule is added to the bucket's lifecycle configuration, keeping its other
 * rules. For dev and demo buckets and setup scripts; `upkit doctor` reports what production buckets lack.
 */
export async function ensureAbortIncompleteMultipartRule(
  config: S3StorageConfig,
  options: { days?: number; client?: DoctorClient } = {},
): Promise<'present' | 'added'> {
  const days = options.days ?? ABORT_AFTER_DAYS
  if (!Number.isInteger(days) || days < 1) throw new RangeError('days must be a positive integer')
  const client = options.client ?? createDoctorClient(config)
  try {
    const current = await client.signed({ method: 'GET', query: { lifecycle: '' } })
    let existing = ''
    if (current.ok) {
      existing = await current.text()
      if (abortRulesCovering(existing, '').length > 0) return 'present'
    } else {
      const answer = await readS3Answer(current)
      if (answer.code !== 'NoSuchLifecycleConfiguration')
        throw new Error(`GetBucketLifecycleConfiguration: ${describeAnswer(answer)}`)
    }
    const rule = `<Rule><ID>${ABORT_RULE_ID}</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>${days}</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>`
    const rules = [...existing.matchAll(/<Rule>[\s\S]*?<\/Rule>/g)].map(([text]) => text)
    const body = `<?xml version="1.0" encoding="UTF-8"?><LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rules.join('')}${rule}</LifecycleConfiguration>`
    const put = await client.signed({
      method: 'PUT',
      query: { lifecycle: '' },
      // S3 requires a body checksum on this operation; Content-MD5 is the one every provider knows.
      headers: {
        'content-md5': createHash('md5').update(body).digest('base64'),
        'content-type': 'application/xml',
      },
      body,
    })
    if (!put.ok)
      throw new Error(`PutBucketLifecycleConfiguration: ${describeAnswer(await readS3Answer(put))}`)
    await put.body?.cancel()
    return 'added'
  } finally {
    if (options.client === undefined) client.close()
  }
}
