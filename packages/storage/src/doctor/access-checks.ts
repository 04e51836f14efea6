import type { CheckContext, CheckOutcome } from './check-context'
import { ok, refused } from './check-context'
import { NTP_FIX, readS3Answer } from './s3-answer'

/** Past this S3 refuses header-signed requests (RequestTimeTooSkewed). */
const MAX_SKEW_MS = 15 * 60_000
/** Past this presigned URLs live noticeably shorter (or start later) than the app asked; fine below. */
const WARN_SKEW_MS = 60_000

/**
 * A signed ListObjectsV2 (one key, under the doctor's own prefix): proves endpoint, bucket, access key, secret and
 * signing region at once, and answers with an error body HEAD would not have.
 */
export async function checkCredentials(ctx: CheckContext): Promise<CheckOutcome> {
  const { config } = ctx.client
  const response = await ctx.client.signed({
    method: 'GET',
    query: { 'list-type': '2', 'max-keys': '1', prefix: ctx.prefix },
    signal: ctx.signal,
  })
  if (response.ok) {
    await response.body?.cancel()
    return ok(
      `a signed request as ${config.credentials?.accessKeyId ?? 'the SDK credential chain'} in ${config.region} was accepted`,
    )
  }
  return refused('signed ListObjectsV2', await readS3Answer(response), ctx, 'See the provider error above.')
}

/**
 * This machine's clock against the bucket's `Date` header (the midpoint of the request, so the round trip does not
 * count as skew; the header has one-second resolution), then a signed request, which S3 refuses past 15 minutes.
 */
export async function checkClock(ctx: CheckContext): Promise<CheckOutcome> {
  const sent = Date.now()
  const response = await fetch(await ctx.client.bucketUrl(), {
    method: 'HEAD',
    signal: ctx.signal,
    redirect: 'manual',
  })
  const received = Date.now()
  await response.body?.cancel()
  const header = response.headers.get('date')
  const serverTime = header === null ? Number.NaN : Date.parse(header)
  if (Number.isNaN(serverTime)) {
    return {
      status: 'warn',
      detail: 'the bucket sent no Date header to compare with',
      fix: 'Make sure this machine keeps time by NTP.',
    }
  }
  const skew = serverTime - (sent + received) / 2
  const tolerance = 1000 + (received - sent) / 2
  const off = Math.abs(skew) <= tolerance ? 0 : skew
  const describe = `this machine is ${formatSkew(-off)} the bucket's clock (Date: ${header})`

  const signed = await ctx.client.signed({
    method: 'GET',
    query: { 'list-type': '2', 'max-keys': '0', prefix: ctx.prefix },
    signal: ctx.signal,
  })
  const answer = signed.ok ? undefined : await readS3Answer(signed)
  if (!signed.ok) await signed.body?.cancel().catch(() => {})
  if (answer?.code === 'RequestTimeTooSkewed' || Math.abs(off) > MAX_SKEW_MS) {
    const serverSaid = answer?.fields.ServerTime
      ? `; the bucket refused a signed request as RequestTimeTooSkewed (its time: ${answer.fields.ServerTime})`
      : ''
    return { status: 'fail', detail: `${describe}${serverSaid}`, fix: NTP_FIX }
  }
  if (Math.abs(off) > WARN_SKEW_MS) return { status: 'warn', detail: describe, fix: NTP_FIX }
  return ok(off === 0 ? `in step with the bucket's clock (Date: ${header})` : describe)
}

function formatSkew(ms: number): string {
  if (ms === 0) return 'in step with'
  const seconds = Math.round(Math.abs(ms) / 1000)
  const text = seconds >= 120 ? `${Math.round(seconds / 60)} min` : `${seconds} s`
  return `${text} ${ms > 0 ? 'ahead of' : 'behind'}`
}
