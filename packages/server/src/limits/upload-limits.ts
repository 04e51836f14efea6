import { UpkitError, type UploadUsage } from '@upkit/core'
import type { AnyRoutes } from '../routes/define-routes'
import type { UploadStore } from '../store/upload-store'
import { authorizeCall, bucketRoute, parseInput } from '../uploads/upload-access'
import {
  DEFAULT_QUOTA_LABEL,
  type QuotaArgs,
  type QuotaFunction,
  quotaExceeded,
  type ResolvedQuota,
  resolveQuota,
  type UploadLimits,
} from './quota'
import { assertRateLimit, type RateLimit, type RateLimiter } from './rate-limit'

export interface RateLimitsOptions {
  /**
   * Where the counters live. Default: the store's own (`prismaUploadStore` keeps them in upkit's
   * `UpkitRateLimit` table, so every instance of the app shares them). A store without one and no limiter here
   * means no rate limits: counters in process memory would not hold across instances.
   */
  readonly limiter?: RateLimiter
  /**
   * `create` calls per person (tenant + `uploadedBy`). Default 300 per minute: dropping a folder of a few hundred
   * files still goes through within the minute, while a script is held to 5 uploads a second. `null`: no limit.
   */
  readonly create?: RateLimit | null
  /**
   * `signParts` calls per person. Default 300 per minute: one call signs up to 100 parts (800 MiB and more), so
   * even many parallel multi-gigabyte uploads and their re-signing after URLs expire stay far below. `null`: none.
   */
  readonly signParts?: RateLimit | null
}

export const DEFAULT_RATE_LIMITS = {
  create: { limit: 300, windowMs: 60_000 },
  signParts: { limit: 300, windowMs: 60_000 },
} as const satisfies Record<string, RateLimit>

/**
 * Rate-limit windows are kept at least this long after they start. Default one day: a host may use the same
 * limiter for its own, longer windows (sign-in throttling), which the sweeper must not cut short.
 */
const MIN_WINDOW_RETENTION_MS = 24 * 60 * 60 * 1000

export interface UploadLimitsConfig<TCtx> {
  /**
   * Per-tenant quotas (bytes and files), exact under concurrency: `create` reserves the declared size (which the
   * signed Content-Length makes exact) in the same store transaction that checks the quota. Default: none, since
   * only the app knows its plans and what a tenant has paid for.
   */
  readonly quotas?: QuotaFunction<TCtx> | undefined
  /** Rate limits on `create` and `signParts`; see `RateLimitsOptions` for the defaults. */
  readonly rateLimits?: RateLimitsOptions | undefined
}

/** Quotas and rate limits as the upload service and the `usage` procedure apply them. */
export function createUploadLimits(
  deps: { store: UploadStore<unknown>; routes: AnyRoutes; now: () => Date },
  config: UploadLimitsConfig<unknown>,
) {
  const { store, routes, now } = deps
  const limiter = config.rateLimits?.limiter ?? store.rateLimiter ?? null
  const pick = (name: keyof typeof DEFAULT_RATE_LIMITS): RateLimit | null => {
    const given = config.rateLimits?.[name]
    const limit = given === undefined ? DEFAULT_RATE_LIMITS[name] : given
    if (limit) assertRateLimit(name, limit)
    return limit
  }
  const limits = { create: pick('create'), signParts: pick('signParts') }
  const what = { create: 'uploads started', signParts: 'parts signed' }

  async function hit(action: keyof typeof limits, who: { tenantId: string; uploadedBy: string | null }) {
    const limit = limits[action]
    if (!limiter || !limit) return
    // Per person within a tenant: one busy person must not lock out the rest of the company.
    const key = `upkit:${action}:${who.tenantId}:${who.uploadedBy ?? ''}`
    const result = await limiter.hit(key, { ...limit, now: now() })
    if (result.allowed) return
    const seconds = result.retryAfterSeconds
    throw new UpkitError(
      'RATE_LIMITED',
      `Too many ${what[action]} in a short time; try again in ${seconds} second${seconds === 1 ? '' : 's'}.`,
      { retryAfterSeconds: seconds },
    )
  }

  async function quotaFor(args: QuotaArgs<unknown>): Promise<ResolvedQuota | null> {
    const quota = config.quotas ? await config.quotas(args) : null
    return quota ? resolveQuota(quota, args) : null
  }

  return {
    /**
     * Before a `create` writes anything: counts it against the rate limit, then resolves the quota into what the
     * store's insert enforces (`undefined`: no quota).
     */
    async beforeCreate(
      args: QuotaArgs<unknown>,
      file: { fileName: string; size: number },
    ): Promise<UploadLimits | undefined> {
      await hit('create', args)
      const quota = await quotaFor(args)
      if (!quota || (quota.bytes === null && quota.files === null)) return undefined
      return {
        ...quota.scope,
        bytes: quota.bytes,
        files: quota.files,
        now: now(),
        refuse: (usage) => quotaExceeded(quota, usage, file),
      }
    },

    beforeSignParts(row: { tenantId: string; uploadedBy: string | null }): Promise<void> {
      return hit('signParts', row)
    },

    /** The quota a route call falls under and how full it is; authorized like `list`. */
    async usage(ctx: unknown, call: { route: string; input: unknown }): Promise<UploadUsage> {
      const route = bucketRoute(routes, call.route)
      const auth = await authorizeCall(route, ctx, parseInput(route, call.input))
      const quota = await quotaFor({
        tenantId: auth.tenantId,
        route: call.route,
        uploadedBy: auth.uploadedBy,
        ctx,
      })
      const usage = await store.usage(quota?.scope ?? { tenantId: auth.tenantId }, now())
      return {
        label: quota?.label ?? DEFAULT_QUOTA_LABEL,
        used: usage.used,
        reserved: usage.reserved,
        limit: quota ? { bytes: quota.bytes, files: quota.files } : null,
      }
    },

    /** Removes rate-limit windows no limit can still be counting in; resolves how many. */
    async sweep(at: Date): Promise<number> {
      if (!limiter) return 0
      const longest = Math.max(
        MIN_WINDOW_RETENTION_MS,
        limits.create?.windowMs ?? 0,
        limits.signParts?.windowMs ?? 0,
      )
      return limiter.deleteWindowsBefore(new Date(at.getTime() - longest))
    },
  }
}

export type UploadLimitsService = ReturnType<typeof createUploadLimits>
