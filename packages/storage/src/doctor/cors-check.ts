import type { CheckContext, CheckOutcome } from './check-context'
import { ok, refused } from './check-context'
import { readS3Answer } from './s3-answer'

/** The request headers upkit's uploader sends with a single PUT (signed), as a browser lists them in a preflight. */
const PUT_HEADERS = 'content-type,if-none-match'

function corsFix(origin: string, provider: string | undefined): string {
  const rule = `AllowedOrigins [${origin}], AllowedMethods GET PUT POST DELETE HEAD, AllowedHeaders *, ExposeHeaders ETag`
  const how =
    provider === 'r2'
      ? 'Cloudflare dashboard > R2 > the bucket > Settings > CORS policy, or ensureBucket({ cors: browserUploadCors([origin]) }) with an admin token'
      : 'storage.ensureBucket({ cors: browserUploadCors([origin]) }) at start, or the provider console (AWS: aws s3api put-bucket-cors)'
  return `Add a CORS rule: ${rule} (${how}).`
}

/**
 * What a browser on `origin` does before and during an upload: a preflight for PUT with upkit's headers, then a
 * real presigned PUT whose answer must let the page read `ETag` (multipart completion needs every part's).
 */
export async function checkCors(ctx: CheckContext): Promise<CheckOutcome> {
  const { origin } = ctx
  if (origin === undefined) {
    return {
      status: 'warn',
      detail: 'not checked: no origin given',
      fix: 'Pass the origin your pages are served from (upkit doctor --origin https://app.example.com).',
    }
  }
  const fix = corsFix(origin, ctx.client.config.provider)
  const key = `${ctx.prefix}cors.txt`
  const preflight = await fetch(await ctx.client.objectUrl(key), {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'PUT',
      'access-control-request-headers': PUT_HEADERS,
    },
    signal: ctx.signal,
  })
  const allowOrigin = preflight.headers.get('access-control-allow-origin')
  if (!preflight.ok || (allowOrigin !== origin && allowOrigin !== '*')) {
    const answer = await readS3Answer(preflight)
    return {
      status: 'fail',
      detail: `preflight for PUT from ${origin} answered ${preflight.status}${answer.code.startsWith('HTTP') ? '' : ` ${answer.code}`}, Access-Control-Allow-Origin: ${allowOrigin ?? 'none'}`,
      fix,
    }
  }
  await preflight.body?.cancel()

  const body = new TextEncoder().encode('upkit doctor CORS check\n')
  const signed = await ctx.client.storage.presignPut({
    key,
    contentType: 'text/plain',
    contentLength: body.length,
    expiresInSeconds: 300,
  })
  const put = await fetch(signed.url, {
    method: 'PUT',
    headers: { ...signed.headers, origin },
    body,
    signal: ctx.signal,
  })
  if (put.ok) ctx.defer(() => ctx.client.storage.deleteObject(key))
  if (!put.ok) return refused('presigned PUT with an Origin', await readS3Answer(put), ctx, fix)
  await put.body?.cancel()
  const exposed = (put.headers.get('access-control-expose-headers') ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
  if (!exposed.includes('etag')) {
    return {
      status: 'fail',
      detail: `a PUT from ${origin} does not expose ETag (Access-Control-Expose-Headers: ${put.headers.get('access-control-expose-headers') ?? 'none'}): browsers cannot complete multipart uploads`,
      fix,
    }
  }
  return ok(`preflight for PUT (${PUT_HEADERS}) allowed; a PUT exposes ETag to ${origin}`)
}
