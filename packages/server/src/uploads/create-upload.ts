import type { CreatedUpload } from '@upkit/core'
import {
  checkFile,
  createdUpload,
  discardUpload,
  prepareUpload,
  signFirst,
  tooManyFilesError,
} from './new-upload'
import { authorizeCall, bucketRoute, parseInput } from './upload-access'
import type { UploadContext } from './upload-context'

/** A route call as `uploads.create` receives it. */
export interface CreateCall {
  readonly route: string
  readonly input: unknown
  readonly fileName: string
  readonly size: number
  readonly mimeType: string
}

/**
 * `uploads.create`: checks the file against the route's policy, authorizes, reserves quota, writes the PENDING row
 * with the plan and answers with the first requests already signed.
 */
export async function createUpload(c: UploadContext, ctx: unknown, call: CreateCall): Promise<CreatedUpload> {
  const route = bucketRoute(c.routes, call.route)
  const file = checkFile(route, call)
  const input = parseInput(route, call.input)
  const auth = await authorizeCall(route, ctx, input)
  const quota = await c.limits?.beforeCreate(
    { tenantId: auth.tenantId, route: call.route, uploadedBy: auth.uploadedBy, ctx },
    { fileName: file.fileName, size: file.size },
  )
  // Without a quota, the cap on uploads in flight is checked by the insert itself when the store can (one
  // statement less); a quota's insert is a transaction of its own, so the count goes before it.
  const { store } = c
  const capped = quota === undefined && store.insertBelowPendingCap ? store.insertBelowPendingCap : null
  if (!capped) {
    const scope = { route: call.route, tenantId: auth.tenantId, ownerId: auth.ownerId }
    const pending = await store.countPending({ ...scope, uploadedBy: auth.uploadedBy }, c.now())
    if (pending >= route.policy.maxFiles) throw tooManyFilesError(route)
  }

  const prepared = await prepareUpload(c, { route: call.route, input }, auth, file)
  // Both settle before any cleanup, so a row still being written cannot outlive the cleanup.
  const [row, signed] = await Promise.allSettled([
    capped
      ? capped.call(store, prepared.row, route.policy.maxFiles, c.now())
      : store.insert(prepared.row, quota),
    signFirst(c, prepared),
  ])
  if (row.status === 'rejected' || signed.status === 'rejected') {
    await discardUpload(c, prepared, true)
    throw row.status === 'rejected' ? row.reason : (signed as PromiseRejectedResult).reason
  }
  if (row.value === null) {
    // At the cap: nothing was written; a multipart upload started for it is aborted.
    await discardUpload(c, prepared, false)
    throw tooManyFilesError(route)
  }
  return createdUpload(c, row.value, prepared, signed.value)
}
