import { randomBytes } from 'node:crypto'
import { DEFAULT_KEY_PREFIX } from '@upkit/core'
import type { S3StorageConfig } from '../s3-bucket-storage'
import { checkClock, checkCredentials } from './access-checks'
import { checkBatchDelete, checkLifecycle } from './bucket-checks'
import type { CheckContext, CheckOutcome } from './check-context'
import { checkCors } from './cors-check'
import { createDoctorClient } from './doctor-client'
import { describeError } from './s3-answer'
import type { BucketDoctorOptions, DoctorCheckId, DoctorCheckResult, DoctorReport } from './types'
import { checkConditionalWrite, checkContentLength, checkMultipart } from './upload-checks'

const DEFAULT_TIMEOUT_MS = 30_000
/** Cleanup gets its own time: a check that timed out must still not leave objects behind. */
const CLEANUP_TIMEOUT_MS = 15_000

interface CheckDefinition {
  readonly id: DoctorCheckId
  readonly title: (options: BucketDoctorOptions) => string
  readonly run: (ctx: CheckContext) => Promise<CheckOutcome>
}

const CHECKS: readonly CheckDefinition[] = [
  { id: 'credentials', title: () => 'credentials and region', run: checkCredentials },
  { id: 'clock', title: () => 'clock skew', run: checkClock },
  { id: 'cors', title: (o) => (o.origin ? `CORS for ${o.origin}` : 'CORS'), run: checkCors },
  { id: 'content-length', title: () => 'signed Content-Length enforced', run: checkContentLength },
  { id: 'multipart', title: () => 'multipart round trip', run: checkMultipart },
  { id: 'conditional-write', title: () => 'conditional write (If-None-Match)', run: checkConditionalWrite },
  { id: 'batch-delete', title: () => 'batch delete (DeleteObjects)', run: checkBatchDelete },
  { id: 'lifecycle', title: () => 'lifecycle: abort incomplete multipart', run: checkLifecycle },
]

export const DOCTOR_CHECK_IDS: readonly DoctorCheckId[] = CHECKS.map((check) => check.id)

/**
 * Checks the bucket end to end the way upkit uses it: each check on its own (one failing does not stop the others),
 * under `upkit-doctor/<random>/` keys it removes afterwards (objects and multipart uploads, also after a time-out),
 * each within `timeoutMs`. Only the bucket is touched; nothing of the app's.
 */
export async function runBucketDoctor(
  config: S3StorageConfig,
  options: BucketDoctorOptions = {},
): Promise<DoctorReport> {
  if (options.origin !== undefined) assertOrigin(options.origin)
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
    throw new RangeError('timeoutMs must be a positive integer')
  const unknown = options.only?.filter((id) => !DOCTOR_CHECK_IDS.includes(id)) ?? []
  if (unknown.length > 0)
    throw new TypeError(
      `Unknown doctor checks: ${unknown.join(', ')} (known: ${DOCTOR_CHECK_IDS.join(', ')})`,
    )
  const client = createDoctorClient(config)
  const run = `upkit-doctor/${randomBytes(6).toString('hex')}/`
  const selected = CHECKS.filter((check) => options.only === undefined || options.only.includes(check.id))
  try {
    const checks = await Promise.all(
      selected.map(async (check): Promise<DoctorCheckResult> => {
        const cleanups: (() => Promise<unknown>)[] = []
        const signal = AbortSignal.timeout(timeoutMs)
        const ctx: CheckContext = {
          client,
          prefix: `${run}${check.id}/`,
          signal,
          origin: options.origin,
          keyPrefix: options.keyPrefix ?? DEFAULT_KEY_PREFIX,
          defer: (cleanup) => cleanups.push(cleanup),
        }
        let outcome: CheckOutcome
        try {
          outcome = await withTimeout(check.run(ctx), signal)
        } catch (error) {
          const { detail, fix } = describeError(error, config)
          outcome = { status: 'fail', detail, fix: fix || 'See the error above.' }
        }
        for (const cleanup of cleanups.reverse()) {
          await withTimeout(cleanup(), AbortSignal.timeout(CLEANUP_TIMEOUT_MS)).catch((error: unknown) => {
            console.error(
              `upkit doctor: cleanup after ${check.id} failed (objects may be left under ${run}): ${describeError(error, config).detail}`,
            )
          })
        }
        return {
          id: check.id,
          title: check.title(options),
          status: outcome.status,
          detail: outcome.detail,
          fix: outcome.status === 'ok' ? '' : (outcome.fix ?? ''),
        }
      }),
    )
    return { ok: checks.every((check) => check.status !== 'fail'), bucket: client.storage.describe, checks }
  } finally {
    client.close()
  }
}

/** Fetch honours the signal; SDK calls do not take it, so the race ends them for the report's sake. */
function withTimeout<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

function assertOrigin(origin: string): void {
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    throw new TypeError(`origin must be a URL such as https://app.example.com, got '${origin}'`)
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin.replace(/\/$/, '')) {
    throw new TypeError(`origin must be scheme://host[:port] with nothing after it, got '${origin}'`)
  }
}
