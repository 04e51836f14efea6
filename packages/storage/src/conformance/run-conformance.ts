import { randomBytes } from 'node:crypto'
import type { BucketStorage } from '../bucket-storage'
import { bucketChecks } from './bucket-checks'
import type { Check, CheckStatus } from './check'
import { multipartChecks } from './multipart-checks'
import { objectChecks } from './object-checks'

/** Every check, in the order they run: the CORS API one before the one relying on its rules. */
export const conformanceChecks: readonly Check[] = [...objectChecks, ...multipartChecks, ...bucketChecks]

export interface ConformanceOptions {
  storage: BucketStorage
  /** An origin the bucket allows (or is to allow, with `manageCors`); CORS checks are skipped without one. */
  corsOrigin?: string
  /** The run may replace the bucket's CORS rules. Default false: a user's bucket keeps its rules. */
  manageCors?: boolean
  /** Default: `upkit-conformance/<random>/`. Everything written is under it and removed at the end. */
  prefix?: string
  /** Default: all. */
  only?: readonly string[]
}

export interface CheckResult {
  check: Check
  status: CheckStatus
  /** Why it failed, was skipped or warned. */
  note: string | undefined
}

export async function runConformance(options: ConformanceOptions): Promise<CheckResult[]> {
  const { storage } = options
  const prefix = options.prefix ?? `upkit-conformance/${randomBytes(6).toString('hex')}/`
  const results: CheckResult[] = []
  try {
    for (const check of conformanceChecks) {
      if (options.only !== undefined && !options.only.includes(check.id)) continue
      try {
        const outcome = await check.run({
          storage,
          prefix: `${prefix}${check.id}/`,
          corsOrigin: options.corsOrigin,
          manageCors: options.manageCors ?? false,
        })
        results.push({ check, status: outcome?.status ?? 'pass', note: outcome?.note })
      } catch (error) {
        results.push({ check, status: 'fail', note: describeError(error) })
      }
    }
  } finally {
    await cleanUp(storage, prefix)
  }
  return results
}

/** Aborts the run's multipart uploads and deletes its objects; one by one if batch delete is what failed. */
async function cleanUp(storage: BucketStorage, prefix: string): Promise<void> {
  for (const upload of await storage.listMultipartUploads({ prefix })) {
    await storage.abortMultipartUpload(upload).catch(() => undefined)
  }
  const keys: string[] = []
  for await (const object of storage.list({ prefix })) keys.push(object.key)
  if (keys.length === 0) return
  try {
    await storage.deleteObjects(keys)
  } catch {
    for (const key of keys) await storage.deleteObject(key)
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  return error.name === 'CheckFailure' || error.name === 'Error'
    ? error.message
    : `${error.name}: ${error.message}`
}
