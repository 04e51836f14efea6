import { UpkitError, type UploadUsage } from '@upkit/core'
import type { AnyRoutes } from '../routes/define-routes'
import { coalescedRateLimiter } from '../store/coalesce'
import type { UploadStore } from '../store/upload-store'
import { authorizeCall, bucketRoute, parseInput } from '../uploads/upload-access'
import {
  DEFAULT_QUOTA_LABEL,
  type QuotaArgs,
  type QuotaFunction,
  quotaExceeded,
  type ResolvedQuota,
  resolveQuota,
  type StoredUsage,
  type UploadLimits,
} from './quota'
import { allowedOfHits, assertRateLimit, type RateLimit, type RateLimiter, rateLimitHit } from './rate-limit'

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
  const given = config.rateLimits?.limiter ?? store.rateLimiter
  // One person's concurrent `create`s are counted by one statement (see coalescedRateLimiter).
  const limiter = given ? coalescedRateLimiter(given) : null
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
    throw rateLimited(action, result.retryAfterSeconds)
  }

  const rateLimited = (action: keyof typeof limits, seconds: number) =>
    new UpkitError(
      'RATE_LIMITED',
      `Too many ${what[action]} in a short time; try again in ${seconds} second${seconds === 1 ? '' : 's'}.`,
      { retryAfterSeconds: seconds },
    )

  /**
   * Counts `hits` hits of one person at once: one `hitMany` statement when the limiter has it, else one `hit`
   * each, stopping at the first refused (the rest would be refused too, and a refused call need not count).
   * Resolves how many of the first hits are allowed and, when some are not, their refusal.
   */
  async function hitMany(
    action: keyof typeof limits,
    who: { tenantId: string; uploadedBy: string | null },
    hits: number,
  ): Promise<{ allowed: number; refusal: UpkitError | null }> {
    const limit = limits[action]
    if (!limiter || !limit || hits === 0) return { allowed: hits, refusal: null }
    const key = `upkit:${action}:${who.tenantId}:${who.uploadedBy ?? ''}`
    const at = now()
    if (limiter.hitMany) {
      const { count } = await limiter.hitMany(key, hits, { ...limit, now: at })
      const allowed = allowedOfHits(count, hits, limit)
      const seconds = rateLimitHit(count, limit, at).retryAfterSeconds
      return { allowed, refusal: allowed < hits ? rateLimited(action, seconds) : null }
    }
    for (let i = 0; i < hits; i++) {
      const result = await limiter.hit(key, { ...limit, now: at })
      if (!result.allowed) return { allowed: i, refusal: rateLimited(action, result.retryAfterSeconds) }
    }
    return { allowed: hits, refusal: null }
  }

  async function quotaFor(args: QuotaArgs<unknown>): Promise<ResolvedQuota | null> {
    const quota = config.quotas ? await config.quotas(args) : null
    return quota ? resolveQuota(quota, args) : null
  }

  /** What the store's insert enforces for `file` under a resolved quota (`undefined`: no quota). */
  function limitsOf(quota: ResolvedQuota | null, file: { fileName: string; size: number }) {
    if (!quota || (quota.bytes === null && quota.files === null)) return undefined
    return {
      ...quota.scope,
      bytes: quota.bytes,
      files: quota.files,
      now: now(),
      refuse: (usage: StoredUsage) => quotaExceeded(quota, usage, file),
    } satisfies UploadLimits
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
      return limitsOf(await quotaFor(args), file)
    },
    /**
     * `beforeCreate` for the files of one `createMany` (one person, route and tenant): the rate limit counts them
     * all in one statement (the store's `hitMany`), the first that fit are allowed and the rest refused
     * RATE_LIMITED, as `beforeCreate` one file after the other would decide; the app's `quotas` runs once for
     * them (it depends only on tenant, route and person), each file getting limits that name it in a refusal.
     * Exactness of the quota stays with the store's insert (its per-tenant lock). Resolves per file in order.
     */
    async beforeCreateMany(
      args: QuotaArgs<unknown>,
      files: readonly { fileName: string; size: number }[],
    ): Promise<({ ok: true; limits: UploadLimits | undefined } | { ok: false; error: UpkitError })[]> {
      const { allowed, refusal } = await hitMany('create', args, files.length)
      const quota = allowed > 0 ? await quotaFor(args) : null
      return files.map((file, i) =>
        i < allowed
          ? { ok: true as const, limits: limitsOf(quota, file) }
          : { ok: false as const, error: refusal as UpkitError },
      )
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
