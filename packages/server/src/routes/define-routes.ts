import {
  type InlineImagePolicy,
  type PublicRoutePolicy,
  type ResolvedInlineImagePolicy,
  type ResolvedPolicy,
  resolveInlineImagePolicy,
  resolvePolicy,
  type UploadPolicy,
  type UploadRecord,
} from '@upkit/core'
import { z } from 'zod'
import type { JsonValue } from '../store/upload-store'

/** What `authorize` decides for one call: whose the file is, and what the app's hooks get to see later. */
export interface Authorized<TMeta> {
  /**
   * The tenant the file belongs to (a company, a workspace). Every later read and write is scoped by it, and the
   * object key starts with it, so it must be key-safe: `[A-Za-z0-9._-]`, up to 128 characters (UUIDs are).
   */
  readonly tenantId: string
  /**
   * What the file belongs to inside the tenant (a task, an invoice). `uploads.list` answers per owner. Default
   * `null`: the route lists all of the tenant's files. Required (and key-safe) for inline routes.
   */
  readonly ownerId?: string | null
  /** Who is uploading, for limits per person and for the app's records. Default `null`. */
  readonly uploadedBy?: string | null
  /** Kept with the upload (as JSON) and handed to the hooks. Default `{}`. */
  readonly metadata?: TMeta
}

/** Input schemas are zod schemas; a route without one takes `{}`. */
export type AnyInputSchema = z.ZodType

type EmptyInput = z.ZodObject<Record<string, never>>

export type Metadata = { [key: string]: JsonValue | undefined }

interface RouteBase<TCtx, TSchema extends AnyInputSchema, TMeta extends Metadata> {
  /** The route's input (a zod schema), e.g. `z.object({ taskId: z.uuid() })`. Default `z.object({})`. */
  readonly input?: TSchema
  /**
   * Runs on every call for this route, with the caller's context and the route input: on create, and again on
   * every later call about one of its uploads (sign, confirm, list, download, delete, `/files/:id`) with the input
   * the upload was created with, so revoking access takes effect at once. Throw (an `UpkitError('FORBIDDEN' |
   * 'NOT_FOUND', ...)` or a `TRPCError`) to refuse.
   */
  readonly authorize: (args: {
    ctx: TCtx
    input: z.output<TSchema>
  }) => Authorized<TMeta> | Promise<Authorized<TMeta>>
}

export interface BucketRouteConfig<TCtx, TTx, TSchema extends AnyInputSchema, TMeta extends Metadata>
  extends RouteBase<TCtx, TSchema, TMeta> {
  readonly policy: UploadPolicy
  /**
   * Runs in the store's transaction that confirms the upload (after the object was checked): link the file to
   * your own rows with `tx`. If it throws, the upload is not confirmed, the object is deleted and the client gets
   * `HOOK_FAILED`. Runs exactly once per upload, from `confirm` or, when the browser never confirmed a complete
   * upload, from the sweeper with `ctx: null`.
   */
  readonly onConfirmed?: (args: BucketHookArgs<TCtx, TTx, TSchema, TMeta>) => void | Promise<void>
  /** Runs in the store's transaction that deletes a confirmed upload's row (the object goes after it commits). */
  readonly onDeleted?: (args: BucketHookArgs<TCtx, TTx, TSchema, TMeta>) => void | Promise<void>
}

export interface BucketHookArgs<TCtx, TTx, TSchema extends AnyInputSchema, TMeta extends Metadata> {
  readonly upload: UploadRecord
  readonly input: z.output<TSchema>
  readonly metadata: TMeta
  readonly tenantId: string
  readonly ownerId: string | null
  /**
   * The context of the request that caused the hook. `null` when there is none: `onConfirmed` run by the sweeper,
   * which confirms an upload whose bytes all arrived but whose browser never called `confirm` (the tab closed).
   * `onDeleted` always has one. Read who uploaded the file from `metadata` (what `authorize` returned), not `ctx`.
   */
  readonly ctx: TCtx | null
  readonly tx: TTx
}

export interface InlineImage {
  readonly bytes: Uint8Array<ArrayBuffer>
  readonly mimeType: string
  /** Hex sha256 of the bytes: part of the image's URL, so it can be cached forever. */
  readonly hash: string
  readonly width: number
  readonly height: number
}

export interface InlineRouteConfig<TCtx, TSchema extends AnyInputSchema, TMeta extends Metadata>
  extends RouteBase<TCtx, TSchema, TMeta> {
  /** Default: 1 MiB, PNG/JPEG/WebP/GIF, at most 4096 px a side, fitted into 512 px by the browser. */
  readonly policy?: InlineImagePolicy
  /** Stores the checked image in the app's table (replacing the previous one). Runs only for accepted images. */
  readonly onStored: (
    args: InlineHookArgs<TCtx, TSchema, TMeta> & { image: InlineImage },
  ) => void | Promise<void>
  /** Removes the app's stored image. */
  readonly onRemoved: (args: InlineHookArgs<TCtx, TSchema, TMeta>) => void | Promise<void>
  /**
   * Reads the image for `GET <paths.inline><route>/<owner>/<hash>`: `null` unless `hash` is the owner's current
   * image. Served without a session (a logo shows on sign-in pages): the URL names the content hash, which cannot
   * be guessed without the bytes.
   */
  readonly load: (args: {
    ownerId: string
    hash: string
  }) => Promise<{ bytes: Uint8Array; mimeType: string } | null>
}

export interface InlineHookArgs<TCtx, TSchema extends AnyInputSchema, TMeta extends Metadata> {
  readonly input: z.output<TSchema>
  readonly metadata: TMeta
  readonly tenantId: string
  readonly ownerId: string
  readonly ctx: TCtx
}

/** A defined bucket route; the type parameters carry its context, transaction, input and metadata types. */
export interface BucketRoute<TCtx, TTx, TSchema extends AnyInputSchema, TMeta extends Metadata> {
  readonly type: 'bucket'
  readonly config: BucketRouteConfig<TCtx, TTx, TSchema, TMeta>
  readonly policy: ResolvedPolicy
  readonly input: AnyInputSchema
}

export interface InlineRoute<TCtx, TSchema extends AnyInputSchema, TMeta extends Metadata> {
  readonly type: 'inline'
  readonly config: InlineRouteConfig<TCtx, TSchema, TMeta>
  readonly policy: ResolvedInlineImagePolicy
  readonly input: AnyInputSchema
}

// biome-ignore lint/suspicious/noExplicitAny: the widest route, for constraints; each route keeps its own types.
export type AnyBucketRoute = BucketRoute<any, any, any, any>
// biome-ignore lint/suspicious/noExplicitAny: as above.
export type AnyInlineRoute = InlineRoute<any, any, any>
export type AnyRoute = AnyBucketRoute | AnyInlineRoute
export type AnyRoutes = Record<string, AnyRoute>

/**
 * The builder of an app's upload routes, typed by the app's tRPC context and the store's transaction handle:
 *
 * ```ts
 * const route = uploadRoutes<AppContext, Prisma.TransactionClient>()
 * export const routes = {
 *   taskAttachment: route.bucket({ policy: { maxSize: '5GB', types: ['*\/*'] }, input: z.object({ taskId: z.uuid() }),
 *     authorize: async ({ ctx, input }) => ({ tenantId: ctx.user.companyId, ownerId: input.taskId }) }),
 *   companyLogo: route.inline({ authorize, onStored, onRemoved, load }),
 * }
 * ```
 */
export function uploadRoutes<TCtx, TTx = unknown>() {
  return {
    /** A route whose files go straight to the bucket and are confirmed after the server checked them. */
    bucket<TSchema extends AnyInputSchema = EmptyInput, TMeta extends Metadata = Record<string, never>>(
      config: BucketRouteConfig<TCtx, TTx, TSchema, TMeta>,
    ): BucketRoute<TCtx, TTx, TSchema, TMeta> {
      return {
        type: 'bucket',
        config,
        policy: resolvePolicy(config.policy),
        input: config.input ?? z.object({}),
      }
    },
    /** A route for small images stored in the app's own table through a base64 mutation (logos, avatars). */
    inline<TSchema extends AnyInputSchema = EmptyInput, TMeta extends Metadata = Record<string, never>>(
      config: InlineRouteConfig<TCtx, TSchema, TMeta>,
    ): InlineRoute<TCtx, TSchema, TMeta> {
      return {
        type: 'inline',
        config,
        policy: resolveInlineImagePolicy(config.policy),
        input: config.input ?? z.object({}),
      }
    },
  }
}

type InputOf<TRoute> = TRoute extends { config: { input?: infer S } }
  ? S extends AnyInputSchema
    ? z.input<S>
    : Record<string, never>
  : never

/** The union of `{ route, input }` calls of a route record's bucket routes (what `uploads.create` takes). */
export type BucketRouteCall<TRoutes extends AnyRoutes> = {
  [K in keyof TRoutes & string]: TRoutes[K] extends AnyBucketRoute
    ? { route: K; input: InputOf<TRoutes[K]> }
    : never
}[keyof TRoutes & string]

/** The union of `{ route, input }` calls of a route record's inline routes (what `uploads.inline.set` takes). */
export type InlineRouteCall<TRoutes extends AnyRoutes> = {
  [K in keyof TRoutes & string]: TRoutes[K] extends AnyInlineRoute
    ? { route: K; input: InputOf<TRoutes[K]> }
    : never
}[keyof TRoutes & string]

/** Every route's rules as the browser gets them from `uploads.policies`. */
export function publicPolicies(routes: AnyRoutes): Record<string, PublicRoutePolicy> {
  return Object.fromEntries(
    Object.entries(routes).map(([name, route]) => [
      name,
      route.type === 'bucket' ? { type: 'bucket', ...route.policy } : { type: 'inline', ...route.policy },
    ]),
  )
}

/**
 * The route of `name` if it is of `type`; `undefined` for an unknown name (own properties only, so `__proto__` or
 * `toString` never resolve) or a route of the other kind.
 */
export function routeOfType<T extends AnyRoute['type']>(
  routes: AnyRoutes,
  name: string,
  type: T,
): Extract<AnyRoute, { type: T }> | undefined {
  const route = Object.hasOwn(routes, name) ? routes[name] : undefined
  return route?.type === type ? (route as Extract<AnyRoute, { type: T }>) : undefined
}
