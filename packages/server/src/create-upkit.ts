import type { IncomingMessage } from 'node:http'
import type { inferProcedureBuilderResolverOptions } from '@trpc/server'
import { assertKeyPrefix, DEFAULT_KEY_PREFIX, resolvePaths, type UpkitPaths } from '@upkit/core'
import type { BucketStorage } from '@upkit/storage'
import type { HealthCheck } from './health'
import { createHttpHandler, isLocalProbe, type UpkitHttpHandler } from './http'
import { createInlineService } from './inline/inline-service'
import type { QuotaFunction } from './limits/quota'
import { createUploadLimits, type RateLimitsOptions } from './limits/upload-limits'
import { type OriginCheckOptions, originCheck } from './origin-check'
import { type AnyProcedureBuilder, buildProcedures, type UpkitProcedures } from './procedures'
import { type AnyRoutes, publicPolicies } from './routes/define-routes'
import { coalescedStore } from './store/coalesce'
import type { UploadStore } from './store/upload-store'
import { assertSweepBounds, type SweepReport, sweepUploads } from './sweeper'
import { createUploadService, type UploadServiceOptions } from './uploads/upload-service'

/** The context type the routes of a route record were defined for. */
type ContextOf<TRoutes extends AnyRoutes> = TRoutes[keyof TRoutes] extends {
  config: { authorize: (args: { ctx: infer C; input: never }) => unknown }
}
  ? C
  : never

export interface CreateUpkitOptions<TRoutes extends AnyRoutes, TTx> extends UploadServiceOptions {
  /** The bucket (`createS3BucketStorage(...)` from `@upkit/storage`). */
  readonly storage: BucketStorage
  /** Where upkit keeps its records (`prismaUploadStore(prisma)` from `@upkit/store-prisma`). */
  readonly store: UploadStore<TTx>
  /** The app's upload routes (`uploadRoutes<Ctx, Tx>()`), by name. */
  readonly routes: TRoutes
  /**
   * Builds the same context your tRPC procedures get from a plain Node request (usually: read the session
   * cookie). Needed by `GET /files/:id`, which runs the route's `authorize` like every procedure does. Default:
   * none, and `/files/` answers 404 to everyone.
   */
  readonly context?: (req: IncomingMessage) => ContextOf<TRoutes> | Promise<ContextOf<TRoutes>>
  /** Where the plain HTTP routes live. Default `{ files: '/files/', inline: '/inline/' }`. */
  readonly paths?: Partial<UpkitPaths>
  /**
   * The health report's path, or `null` for none. Default `'/healthz'`: load balancers and the demo's start-up
   * check poll it. It pings the bucket and the store, plus `healthChecks`.
   */
  readonly healthPath?: string | null
  /** More dependencies the health report pings, by name. Default none. */
  readonly healthChecks?: Record<string, HealthCheck>
  /**
   * Per-tenant quotas: `({ tenantId, route, uploadedBy, ctx }) => ({ bytes: '5GB', files: 10_000, label })` or
   * `null`. Exact under concurrency: `create` reserves the declared size in the store transaction that checks
   * the quota; confirm turns it into usage, cancel, expiry and delete release it. Default: none, since only the
   * app knows what each tenant is entitled to.
   */
  readonly quotas?: QuotaFunction<ContextOf<TRoutes>>
  /**
   * Rate limits on `create` and `signParts` per person, counted in the store (shared by every instance).
   * Default 300 calls a minute each, on the store's own limiter; see `RateLimitsOptions`.
   */
  readonly rateLimits?: RateLimitsOptions
  /**
   * Who may see what each health check uses (the database path, the internal bucket address); everyone else gets
   * up/down per check only. Default: a probe from this machine by a loopback name (`isLocalProbe`).
   */
  readonly healthDetails?: (req: IncomingMessage) => boolean | Promise<boolean>
  /**
   * The origins browsers reach the app at. When set, `/files/` and inline images answer 403 to a request naming
   * another host (DNS rebinding). Use the same list with `originCheck` in front of your tRPC handler.
   */
  readonly origins?: OriginCheckOptions['origins']
  /**
   * How long after an upload's object arrived complete in the bucket the sweeper confirms it when the browser did
   * not (a tab closed after the last byte), with `onConfirmed` getting `ctx: null`. Default 60 s; see
   * `SweepOptions.confirmGraceMs`. At most `maxConfirmsPerSweep` (default 100) pending uploads are checked per
   * sweep, from where the last sweep stopped.
   */
  readonly confirmGraceMs?: number
  readonly maxConfirmsPerSweep?: number
  /** Keys of the bucket listing a sweep checks for orphans; default 10,000. See `SweepOptions.orphanKeysPerSweep`. */
  readonly orphanKeysPerSweep?: number
}

export interface Upkit<TRoutes extends AnyRoutes> {
  /**
   * upkit's tRPC procedures built on YOUR base procedure, so your middleware (auth, logging, rate limits) wraps
   * them and your error formatter shapes their errors. Nest the result under any key of your router:
   * `t.router({ uploads: upkit.router(authedProcedure) })`. Throws at once if your error formatter would drop
   * `data.upkitCode`.
   */
  router<TBase extends AnyProcedureBuilder>(
    base: TBase &
      (inferProcedureBuilderResolverOptions<TBase>['ctx'] extends ContextOf<TRoutes>
        ? unknown
        : { __error: 'the procedure context is not the context the upload routes were defined for' }),
  ): UpkitProcedures<TRoutes>
  /** The plain HTTP routes (`/files/`, inline images, health): `if (await upkit.http(req, res)) return`. */
  readonly http: UpkitHttpHandler
  /**
   * Confirms complete uploads the browser never confirmed, then removes abandoned uploads and orphan objects,
   * once; see `sweepUploads`. Resolves `skipped` when another instance (or call) is sweeping.
   */
  sweep(): Promise<SweepReport>
  /**
   * Sweeps now and then every `intervalMs` (default 15 min) until the returned function is called. Failures are
   * logged and retried at the next tick. The timer does not keep the process alive.
   */
  startSweeper(options?: { intervalMs?: number; onError?: (error: unknown) => void }): () => void
  readonly paths: UpkitPaths
}

/**
 * upkit for one app: its routes, its bucket, its store, options given once. Everything else (procedures, the
 * HTTP routes, the sweeper) comes from the returned object.
 */
export function createUpkit<TRoutes extends AnyRoutes, TTx>(
  options: CreateUpkitOptions<TRoutes, TTx>,
): Upkit<TRoutes> {
  const { storage, routes } = options
  // Concurrent finds and flips of single `confirm`s go to the database together (see coalescedStore).
  const store = coalescedStore(options.store)
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX
  assertKeyPrefix(keyPrefix)
  if (keyPrefix === '')
    throw new TypeError('keyPrefix cannot be empty: the sweeper deletes objects no upload names under it.')
  assertSweepBounds(options)
  const paths = resolvePaths(options.paths)
  const now = options.now ?? (() => new Date())
  const limits = createUploadLimits(
    { store, routes, now },
    { quotas: options.quotas as QuotaFunction<unknown> | undefined, rateLimits: options.rateLimits },
  )
  const uploads = createUploadService({ storage, store, routes, limits, paths }, { ...options, keyPrefix })
  const inline = createInlineService(routes, paths)
  const policies = publicPolicies(routes)
  const sweep = async (): Promise<SweepReport> => {
    const at = now()
    const report = await sweepUploads({
      store,
      storage,
      keyPrefix,
      now: at,
      confirmComplete: uploads.confirmComplete,
      confirmGraceMs: options.confirmGraceMs,
      maxConfirmsPerSweep: options.maxConfirmsPerSweep,
      orphanKeysPerSweep: options.orphanKeysPerSweep,
    })
    // The limiter's windows are swept by whichever instance holds the sweep's lease, like the rest.
    if (report.skipped) return report
    return { ...report, rateLimitWindows: await limits.sweep(at) }
  }
  return {
    router: (base) => buildProcedures<TRoutes>(base, { uploads, inline, policies, limits }),
    http: createHttpHandler({
      uploads,
      inline,
      paths,
      context: options.context,
      healthPath: options.healthPath === undefined ? '/healthz' : options.healthPath,
      healthDetails: options.healthDetails ?? isLocalProbe,
      originGuard: options.origins ? originCheck({ origins: options.origins }) : undefined,
      health: {
        database: { describe: store.describe, ping: () => store.ping() },
        bucket: { describe: storage.describe, ping: () => storage.checkBucket() },
        ...options.healthChecks,
      },
    }),
    sweep,
    startSweeper({
      intervalMs = 15 * 60_000,
      onError = (error: unknown) => console.error('upkit sweep failed:', error),
    } = {}) {
      const tick = () => void sweep().catch(onError)
      const timer = setInterval(tick, intervalMs)
      timer.unref()
      tick()
      return () => clearInterval(timer)
    },
    paths,
  }
}
