import type { CheckContext, CheckOutcome } from './check-context'
import { ok, partBody, refused } from './check-context'
import { abortRuleFix, abortRulesCovering } from './lifecycle-rule'
import { describeAnswer, describeError, readS3Answer } from './s3-answer'

/** The sweeper and `upkit migrate` remove objects with DeleteObjects: two objects in, one call, both gone. */
export async function checkBatchDelete(ctx: CheckContext): Promise<CheckOutcome> {
  const { storage } = ctx.client
  const keys = [`${ctx.prefix}batch-1.bin`, `${ctx.prefix}batch-2.bin`]
  // Deferred per object once it is there: with refused credentials there is nothing to clean (and no way to).
  for (const key of keys)
    await storage.putObject({
      key,
      body: partBody(4, 1),
      contentType: 'application/octet-stream',
      contentLength: 4,
    })
  try {
    await storage.deleteObjects(keys)
  } catch (error) {
    const { detail, fix } = describeError(error, ctx.client.config)
    return {
      status: 'fail',
      detail: `DeleteObjects: ${detail}`,
      fix:
        fix ||
        (/content-md5/i.test(detail)
          ? 'The provider wants Content-MD5 on DeleteObjects: update @upkit/storage (it sends Content-MD5 there).'
          : 'Batch deletes are refused: the sweeper cannot remove orphans. Allow s3:DeleteObject for the key, or see the provider error above.'),
    }
  }
  const left = (await Promise.all(keys.map((key) => storage.head(key)))).filter(
    (head) => head !== null,
  ).length
  if (left > 0) {
    return {
      status: 'fail',
      detail: `DeleteObjects succeeded but ${left} of 2 objects are still there`,
      fix: 'The provider acknowledges batch deletes it does not perform: report it to the provider.',
    }
  }
  return ok('DeleteObjects removed 2 objects in one call')
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
