import { createHash } from 'node:crypto'
import type { CheckContext, CheckOutcome } from './check-context'
import { ok, partBody, refused } from './check-context'
import { abortRuleFix, abortRulesCovering } from './lifecycle-rule'
import { describeAnswer, readS3Answer } from './s3-answer'

/**
 * The sweeper and `upkit migrate` remove objects with DeleteObjects: two objects in, one request, both gone. Sent
 * here by hand with Content-MD5 (which every provider accepts; some require it): `storage.deleteObjects` falls back
 * to one request per object where the API is missing, which would hide exactly what this check is for.
 */
export async function checkBatchDelete(ctx: CheckContext): Promise<CheckOutcome> {
  const { storage } = ctx.client
  const keys = [`${ctx.prefix}batch-1.bin`, `${ctx.prefix}batch-2.bin`]
  // Deferred per object once it is there: with refused credentials there is nothing to clean (and no way to).
  for (const key of keys) {
    await storage.putObject({
      key,
      body: partBody(4, 1),
      contentType: 'application/octet-stream',
      contentLength: 4,
    })
    ctx.defer(() => storage.deleteObject(key))
  }
  const body = `<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>${keys
    .map((key) => `<Object><Key>${key}</Key></Object>`) // hex and slashes only: nothing to escape
    .join('')}</Delete>`
  const response = await ctx.client.signed({
    method: 'POST',
    query: { delete: '' },
    headers: {
      'content-md5': createHash('md5').update(body).digest('base64'),
      'content-type': 'application/xml',
    },
    body,
    signal: ctx.signal,
  })
  const text = await response.text()
  if (!response.ok) {
    const answer = await readS3Answer(
      new Response(text, { status: response.status, headers: response.headers }),
    )
    if (answer.status === 501 || answer.code === 'NotImplemented') {
      return {
        status: 'warn',
        detail: `the provider has no DeleteObjects (${describeAnswer(answer)})`,
        fix: 'Nothing to change for upkit: it deletes one object per request there, so sweeps of many orphans take longer.',
      }
    }
    return refused(
      'DeleteObjects with Content-MD5',
      answer,
      ctx,
      'Batch deletes are refused: the sweeper cannot remove orphans. Allow s3:DeleteObject for the key, or see the provider error above.',
    )
  }
  const errors = [...text.matchAll(/<Error>[\s\S]*?<Code>([^<]*)<\/Code>[\s\S]*?<\/Error>/g)].map(
    ([, code]) => code,
  )
  const left = (await Promise.all(keys.map((key) => storage.head(key)))).filter(
    (head) => head !== null,
  ).length
  if (errors.length > 0 || left > 0) {
    return {
      status: 'fail',
      detail: `DeleteObjects answered ${response.status} but ${left} of 2 objects are still there${errors.length > 0 ? ` (errors: ${errors.join(', ')})` : ''}`,
      fix: 'The provider does not perform batch deletes it acknowledges: allow s3:DeleteObject for the key, or report it to the provider.',
    }
  }
  return ok('DeleteObjects (with Content-MD5) removed 2 objects in one request')
}

/**
 * Incomplete multipart uploads are billed until aborted; upkit leaves them to the bucket's lifecycle rule
 * (`AbortIncompleteMultipartUpload`) where the provider has one. Missing, or no lifecycle API: a warning with the rule.
 */
export async function checkLifecycle(ctx: CheckContext): Promise<CheckOutcome> {
  const { config } = ctx.client
  const fix = abortRuleFix(config)
  const response = await ctx.client.signed({ method: 'GET', query: { lifecycle: '' }, signal: ctx.signal })
  if (!response.ok) {
    const answer = await readS3Answer(response)
    if (answer.code === 'NoSuchLifecycleConfiguration') {
      return {
        status: 'warn',
        detail:
          'the bucket has no lifecycle configuration: abandoned multipart uploads stay (and are billed) until the sweeper finds them',
        fix,
      }
    }
    if (answer.status === 501 || answer.code === 'NotImplemented') {
      return {
        status: 'warn',
        detail: `the provider has no lifecycle API (${describeAnswer(answer)})`,
        fix: `Nothing to add here; upkit's sweeper aborts the incomplete uploads it knows. ${config.provider === 'minio' ? fix : 'Check whether the provider expires them itself.'}`,
      }
    }
    return refused('GetBucketLifecycleConfiguration', answer, ctx, fix)
  }
  const rules = abortRulesCovering(await response.text(), ctx.keyPrefix)
  const best = rules.sort((a, b) => a.days - b.days)[0]
  if (best === undefined) {
    return {
      status: 'warn',
      detail: `no enabled AbortIncompleteMultipartUpload rule covers '${ctx.keyPrefix}'`,
      fix,
    }
  }
  return ok(
    `rule ${best.id ?? '(no ID)'} aborts incomplete multipart uploads after ${best.days} day(s)${best.prefix ? ` under '${best.prefix}'` : ''}`,
  )
}
