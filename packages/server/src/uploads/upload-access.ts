import { TRPCError } from '@trpc/server'
import { isUpkitError, UpkitError, type UpkitPaths, type UploadRecord } from '@upkit/core'
import {
  type AnyBucketRoute,
  type AnyRoutes,
  type Authorized,
  type Metadata,
  routeOfType,
} from '../routes/define-routes'
import type { UploadRow, UploadStore } from '../store/upload-store'
import { thumbnailUrl } from './thumbnail'

export const NOT_FOUND_MESSAGE = 'This upload does not exist.'

/**
 * What the browser may see of an upload: never the key, the tenant or the app's metadata. `paths` places the
 * thumbnail's URL (served by upkit's HTTP routes).
 */
export function toUploadRecord(row: UploadRow, paths: UpkitPaths): UploadRecord {
  return {
    id: row.id,
    route: row.route,
    status: (
      { PENDING: 'pending', CONFIRMED: 'confirmed', FAILED: 'failed', CANCELLED: 'cancelled' } as const
    )[row.status],
    fileName: row.fileName,
    mimeType: row.mimeType,
    size: row.size,
    createdAt: row.createdAt.toISOString(),
    confirmedAt: row.confirmedAt?.toISOString() ?? null,
    thumbnailUrl: row.thumbnailType === null ? null : thumbnailUrl(paths, row.id),
    uploadedBy: row.uploadedBy,
  }
}

/** A bucket route by name; an unknown name or an inline route is the caller's mistake. */
export function bucketRoute(routes: AnyRoutes, name: string): AnyBucketRoute {
  const route = routeOfType(routes, name, 'bucket')
  if (!route) throw new UpkitError('INVALID_INPUT', `There is no upload route "${name}".`)
  return route
}

function isUnauthenticated(error: unknown): boolean {
  return (
    (error instanceof TRPCError && error.code === 'UNAUTHORIZED') ||
    (isUpkitError(error) && error.code === 'UNAUTHENTICATED')
  )
}

/**
 * Runs the route's `authorize` for a new call: its refusals reach the caller as they are, and what it returns is
 * checked before anything is written.
 */
export async function authorizeCall<TCtx>(
  route: { config: { authorize: (args: { ctx: TCtx; input: never }) => unknown } },
  ctx: TCtx,
  input: unknown,
): Promise<Required<Authorized<Metadata>>> {
  const result = (await route.config.authorize({ ctx, input: input as never })) as Authorized<Metadata>
  if (
    typeof result !== 'object' ||
    result === null ||
    typeof result.tenantId !== 'string' ||
    result.tenantId === ''
  )
    throw new TypeError('authorize must return { tenantId } (a non-empty string) or throw.')
  return {
    tenantId: result.tenantId,
    ownerId: result.ownerId ?? null,
    uploadedBy: result.uploadedBy ?? null,
    metadata: result.metadata ?? {},
  }
}

/** Parses a route input; a bad one is the caller's mistake, with zod's first message. */
export function parseInput(
  route: AnyBucketRoute | { input: AnyBucketRoute['input'] },
  input: unknown,
): unknown {
  const parsed = route.input.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue && issue.path.length > 0 ? ` (input.${issue.path.join('.')})` : ''
    throw new UpkitError('INVALID_INPUT', `${issue?.message ?? 'Invalid input'}${where}`)
  }
  return parsed.data
}

/**
 * The caller's own upload: the row exists, its route still exists, and the route's `authorize` (run again with the
 * input the upload was created with) puts the caller in the row's tenant. Anything else answers exactly like a
 * missing upload, so an id of another tenant's file reveals nothing; only "not signed in" stays itself so the
 * client can ask the person to sign in.
 */
export async function findOwnUpload<TCtx>(
  store: UploadStore<unknown>,
  routes: AnyRoutes,
  ctx: TCtx,
  uploadId: string,
): Promise<{ row: UploadRow; route: AnyBucketRoute; auth: Required<Authorized<Metadata>> }> {
  const row = await store.find(uploadId)
  const route = row ? routeOfType(routes, row.route, 'bucket') : undefined
  if (!row || !route) throw new UpkitError('NOT_FOUND', NOT_FOUND_MESSAGE)
  let auth: Required<Authorized<Metadata>>
  try {
    const parsed = route.input.safeParse(row.input)
    if (!parsed.success) throw new UpkitError('NOT_FOUND', NOT_FOUND_MESSAGE)
    auth = await authorizeCall(route, ctx, parsed.data)
  } catch (error) {
    if (isUnauthenticated(error)) throw error
    throw new UpkitError('NOT_FOUND', NOT_FOUND_MESSAGE, { cause: error })
  }
  if (auth.tenantId !== row.tenantId) throw new UpkitError('NOT_FOUND', NOT_FOUND_MESSAGE)
  return { row, route, auth }
}
