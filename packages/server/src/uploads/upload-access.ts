import { TRPCError } from '@trpc/server'
import { isUpkitError, UpkitError, type UpkitPaths, type UploadRecord } from '@upkit/core'
import {
  type AnyBucketRoute,
  type AnyRoutes,
  type Authorized,
  type Metadata,
  routeOfType,
} from '../routes/define-routes'
import type { JsonValue, UploadRow, UploadStore } from '../store/upload-store'
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

type Auth = Required<Authorized<Metadata>>

/** An upload found to be the caller's own, with its route and what `authorize` said now. */
export interface OwnUpload {
  readonly row: UploadRow
  readonly route: AnyBucketRoute
  readonly auth: Auth
}

/** How a stored upload's input is authorized again; `ownUploads` shares one run among rows of the same call. */
export type StoredInputAuthorizer = (route: AnyBucketRoute, storedInput: JsonValue) => Promise<Auth>

/**
 * `authorize` run again with an upload's stored input; any refusal but "not signed in" reads as NOT_FOUND, and an
 * error that is no refusal stays itself.
 */
export function storedInputAuthorizer(ctx: unknown): StoredInputAuthorizer {
  return async (route, storedInput) => {
    try {
      const parsed = route.input.safeParse(storedInput)
      if (!parsed.success) throw new UpkitError('NOT_FOUND', NOT_FOUND_MESSAGE)
      return await authorizeCall(route, ctx, parsed.data)
    } catch (error) {
      if (isUnauthenticated(error)) throw error
      // A refusal (what authorize throws to refuse) reads as a missing upload. Anything else (the app's database
      // unreachable mid-lookup, a bug) is a failure, not an answer: as NOT_FOUND the client would give the file
      // up, while a failure it retries.
      if (!isUpkitError(error) && !(error instanceof TRPCError)) throw error
      throw new UpkitError('NOT_FOUND', NOT_FOUND_MESSAGE, { cause: error })
    }
  }
}

/** `row` if it is the caller's own (see `findOwnUpload`); NOT_FOUND otherwise. */
export async function ownUpload(
  routes: AnyRoutes,
  row: UploadRow | null,
  authorize: StoredInputAuthorizer,
): Promise<OwnUpload> {
  const route = row ? routeOfType(routes, row.route, 'bucket') : undefined
  if (!row || !route) throw new UpkitError('NOT_FOUND', NOT_FOUND_MESSAGE)
  const auth = await authorize(route, row.input)
  if (auth.tenantId !== row.tenantId) throw new UpkitError('NOT_FOUND', NOT_FOUND_MESSAGE)
  return { row, route, auth }
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
): Promise<OwnUpload> {
  return ownUpload(routes, await store.find(uploadId), storedInputAuthorizer(ctx))
}

/**
 * `findOwnUpload` for many ids (`confirmMany`): one read for all rows, and `authorize` run once per route and
 * stored input (the files of one drop share them) rather than once per file; each id's answer is the same as
 * `findOwnUpload`'s, in order. "Not signed in" rejects the whole call, as it would each single call.
 */
export async function findOwnUploads(
  store: UploadStore<unknown>,
  routes: AnyRoutes,
  ctx: unknown,
  uploadIds: readonly string[],
): Promise<PromiseSettledResult<OwnUpload>[]> {
  const unique = [...new Set(uploadIds)]
  const rows = store.findMany
    ? await store.findMany(unique)
    : (await Promise.all(unique.map((id) => store.find(id)))).filter((row) => row !== null)
  const byId = new Map(rows.map((row) => [row.id, row]))
  const authorizeOnce = storedInputAuthorizer(ctx)
  const runs = new Map<AnyBucketRoute, Map<string, Promise<Auth>>>()
  const shared: StoredInputAuthorizer = (route, storedInput) => {
    const ofRoute = runs.get(route) ?? new Map<string, Promise<Auth>>()
    runs.set(route, ofRoute)
    // JSON of a stored input is stable: the database normalized it when the row was written.
    const key = JSON.stringify(storedInput)
    let run = ofRoute.get(key)
    if (!run) {
      run = authorizeOnce(route, storedInput)
      // Settled rows read it later; a refusal here must not surface as an unhandled rejection meanwhile.
      run.catch(() => {})
      ofRoute.set(key, run)
    }
    return run
  }
  const results = await Promise.allSettled(
    uploadIds.map((id) => ownUpload(routes, byId.get(id) ?? null, shared)),
  )
  const unauthenticated = results.find((r) => r.status === 'rejected' && isUnauthenticated(r.reason))
  if (unauthenticated) throw (unauthenticated as PromiseRejectedResult).reason
  return results
}
