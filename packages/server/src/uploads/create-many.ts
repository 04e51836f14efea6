import type { CreateManyResult, FileDescription } from '@upkit/core'
import type { UploadLimits } from '../limits/quota'
import type { InsertResult, NewUploadEntry } from '../store/upload-store'
import { refusalOf, uploadFailureOf } from './batch-results'
import {
  checkFile,
  createdUpload,
  discardUpload,
  type PreparedUpload,
  prepareUpload,
  signFirst,
  tooManyFilesError,
} from './new-upload'
import { authorizeCall, bucketRoute, parseInput } from './upload-access'
import type { UploadContext } from './upload-context'

/** What `uploads.createMany` receives: one route call and the files to upload under it (1 to 100). */
export interface CreateManyCall {
  readonly route: string
  readonly input: unknown
  readonly files: readonly FileDescription[]
}

/**
 * `uploads.createMany`: `create` for many files of one route call, answered per file in order. The route call is
 * authorized once (its files share it); each file then gets exactly `create`'s checks, in this order, and a file
 * refused by one is answered with that refusal while the others go on:
 * - the route's policy (size, type); a refused file counts for nothing below;
 * - the rate limit, counted per file (a batch of 100 counts as 100 `create` calls: the limit is about how many
 *   uploads a person starts, however they are sent) but in one statement for the batch; from the first file
 *   refused, the rest of the batch is too; the app's `quotas` runs once for the batch;
 * - `maxFiles`: the person's pending uploads plus this batch's files before it, so the first files that fit are
 *   the ones accepted;
 * - the quota, decided in order in the one transaction that writes every row (`UploadStore.insertMany`): a file
 *   fits if the tenant's used + reserved + the batch's files accepted before it + itself stay within it; a file
 *   that does not fit is refused and a later, smaller one may still fit.
 * Multipart files get their multipart upload before the transaction (as with `create`); every file's first
 * requests are signed after it. A failure that is not about one file (database, bucket) undoes the whole batch and
 * rejects the call.
 */
export async function createManyUploads(
  c: UploadContext,
  ctx: unknown,
  call: CreateManyCall,
): Promise<CreateManyResult[]> {
  const route = bucketRoute(c.routes, call.route)
  const input = parseInput(route, call.input)
  const auth = await authorizeCall(route, ctx, input)
  const results: (CreateManyResult | undefined)[] = call.files.map(() => undefined)
  const refuse = (i: number, error: unknown) => {
    results[i] = refusalOf(error)
  }

  const files = call.files.map((described, i) => {
    try {
      return checkFile(route, described)
    } catch (error) {
      refuse(i, error)
      return null
    }
  })

  // The rate limit counts the batch's checked files in one statement and the app's `quotas` runs once: the files
  // share one tenant, route and person. Which files are refused still follows their order.
  const quotas: (UploadLimits | undefined)[] = []
  const checked = [...files.entries()].flatMap(([i, file]) => (file ? [{ i, file }] : []))
  const who = { tenantId: auth.tenantId, route: call.route, uploadedBy: auth.uploadedBy, ctx }
  if (c.limits) {
    const decided = await c.limits.beforeCreateMany(
      who,
      checked.map(({ file }) => file),
    )
    for (const [j, { i }] of checked.entries()) {
      const decision = decided[j]
      if (decision?.ok) quotas[i] = decision.limits
      else if (decision) refuse(i, decision.error)
    }
  }

  const scope = { route: call.route, tenantId: auth.tenantId, ownerId: auth.ownerId }
  let free =
    route.policy.maxFiles - (await c.store.countPending({ ...scope, uploadedBy: auth.uploadedBy }, c.now()))
  const accepted: number[] = []
  for (const [i, file] of files.entries()) {
    if (!file || results[i]) continue
    if (free <= 0) {
      refuse(i, tooManyFilesError(route))
      continue
    }
    free -= 1
    accepted.push(i)
  }

  const preparing = await Promise.allSettled(
    accepted.map((i) => prepareUpload(c, { route: call.route, input }, auth, files[i] as FileDescription)),
  )
  const prepared = preparing.flatMap((p) => (p.status === 'fulfilled' ? [p.value] : []))
  const failedToPrepare = preparing.find((p) => p.status === 'rejected')
  if (failedToPrepare) {
    await Promise.all(prepared.map((p) => discardUpload(c, p, false)))
    throw (failedToPrepare as PromiseRejectedResult).reason
  }

  const entries = accepted.map((i, j) => ({ row: (prepared[j] as PreparedUpload).row, limits: quotas[i] }))
  let inserted: InsertResult[]
  try {
    inserted = await insertMany(c, entries)
  } catch (error) {
    await Promise.all(prepared.map((p) => discardUpload(c, p, true)))
    throw error
  }

  const written = prepared.filter((_, j) => inserted[j]?.ok)
  // A file the quota refused was never written: only its multipart upload (if any) is left to abort.
  await Promise.all(prepared.filter((_, j) => !inserted[j]?.ok).map((p) => discardUpload(c, p, false)))
  const signing = await Promise.allSettled(written.map((p) => signFirst(c, p)))
  const failedToSign = signing.find((s) => s.status === 'rejected')
  if (failedToSign) {
    await Promise.all(written.map((p) => discardUpload(c, p, true)))
    throw (failedToSign as PromiseRejectedResult).reason
  }

  let w = 0
  for (const [j, i] of accepted.entries()) {
    const result = inserted[j] as InsertResult
    if (!result.ok) {
      refuse(i, result.error)
      continue
    }
    const signed = (signing[w++] as PromiseFulfilledResult<Awaited<ReturnType<typeof signFirst>>>).value
    results[i] = { ok: true, created: createdUpload(c, result.row, prepared[j] as PreparedUpload, signed) }
  }
  return results as CreateManyResult[]
}

/** The store's `insertMany`, or one `insert` per entry (in order, so the quota decides as `insertMany` would). */
async function insertMany(c: UploadContext, entries: readonly NewUploadEntry[]): Promise<InsertResult[]> {
  if (entries.length === 0) return []
  if (c.store.insertMany) return c.store.insertMany(entries)
  const results: InsertResult[] = []
  for (const { row, limits } of entries) {
    try {
      results.push({ ok: true, row: await c.store.insert(row, limits) })
    } catch (error) {
      if (!uploadFailureOf(error) || !limits) throw error
      results.push({ ok: false, error: error as Error })
    }
  }
  return results
}
