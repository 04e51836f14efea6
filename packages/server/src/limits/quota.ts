import { formatBytes, parseSize, type SizeInput, UpkitError } from '@upkit/core'

/** What a quota counts, as the store reports it for one tenant (or one tenant's route / person). */
export interface StoredUsage {
  /** CONFIRMED uploads. */
  readonly used: { readonly bytes: number; readonly files: number }
  /** PENDING uploads not yet expired: each holds its declared size from `create` until confirm, cancel or expiry. */
  readonly reserved: { readonly bytes: number; readonly files: number }
}

/** Whose uploads a quota counts: always one tenant's, narrowed to one route and/or one uploader when set. */
export interface UsageScope {
  readonly tenantId: string
  readonly route?: string | undefined
  readonly uploadedBy?: string | null | undefined
}

/**
 * What `UploadStore.insert` must enforce atomically with the insert: with the new row, the scope's used plus
 * reserved stays within `bytes` and `files` (a `null` limit is no limit). Otherwise nothing is written and the
 * insert rejects with `refuse(usage before the insert)`.
 */
export interface UploadLimits extends UsageScope {
  readonly bytes: number | null
  readonly files: number | null
  /** Rows PENDING but expired at `now` count for nothing: the sweeper is about to remove them. */
  readonly now: Date
  readonly refuse: (usage: StoredUsage) => Error
}

/** A tenant's quota, as the app's `quotas` function returns it. */
export interface Quota {
  /** Bytes stored plus reserved by uploads in progress (`'5GB'` or a number). Default: no limit. */
  readonly bytes?: SizeInput | null
  /** Files stored plus in progress. Default: no limit. */
  readonly files?: number | null
  /**
   * Whose quota it is, in refusal messages ("Acme has 3.2 GiB of its 5 GiB left"). Default "This workspace":
   * upkit knows only the tenant's id, which means nothing to a person.
   */
  readonly label?: string
  /** Count only this route's uploads (a quota per route). Default false: one quota across the tenant's routes. */
  readonly perRoute?: boolean
  /** Count only this person's uploads (a quota per user). Default false: the tenant's people share it. */
  readonly perUser?: boolean
}

export interface QuotaArgs<TCtx> {
  readonly tenantId: string
  readonly route: string
  readonly uploadedBy: string | null
  readonly ctx: TCtx
}

/** The app's quotas: called on every `create` and `usage` with what `authorize` said; `null` for none. */
export type QuotaFunction<TCtx> = (args: QuotaArgs<TCtx>) => Quota | null | Promise<Quota | null>

export const DEFAULT_QUOTA_LABEL = 'This workspace'

/** A quota resolved for one call: the store's limits plus what messages need. */
export interface ResolvedQuota {
  readonly label: string
  readonly scope: UsageScope
  readonly bytes: number | null
  readonly files: number | null
}

export function resolveQuota(quota: Quota, args: QuotaArgs<unknown>): ResolvedQuota {
  const bytes = quota.bytes === undefined || quota.bytes === null ? null : parseSize(quota.bytes)
  const files = quota.files ?? null
  if (files !== null && (!Number.isInteger(files) || files < 0))
    throw new TypeError(`quotas: files must be a whole number >= 0, got ${files}.`)
  return {
    label: quota.label ?? DEFAULT_QUOTA_LABEL,
    scope: {
      tenantId: args.tenantId,
      ...(quota.perRoute ? { route: args.route } : {}),
      ...(quota.perUser ? { uploadedBy: args.uploadedBy } : {}),
    },
    bytes,
    files,
  }
}

/** The refusal a person reads: how much is left of what, so they know what to delete. */
export function quotaExceeded(
  quota: ResolvedQuota,
  usage: StoredUsage,
  file: { fileName: string; size: number },
): UpkitError {
  const files = usage.used.files + usage.reserved.files
  const bytes = usage.used.bytes + usage.reserved.bytes
  const inProgress =
    usage.reserved.files > 0
      ? usage.reserved.files === 1
        ? ' (1 upload in progress counts too)'
        : ` (${usage.reserved.files} uploads in progress count too)`
      : ''
  if (quota.files !== null && files + 1 > quota.files) {
    return new UpkitError(
      'QUOTA_EXCEEDED',
      `${quota.label} has used all ${quota.files} of its files${inProgress}; delete some to upload "${file.fileName}".`,
    )
  }
  const left = Math.max(0, (quota.bytes ?? 0) - bytes)
  return new UpkitError(
    'QUOTA_EXCEEDED',
    `${quota.label} has ${formatBytes(left)} of its ${formatBytes(quota.bytes ?? 0)} left${inProgress}; ` +
      `"${file.fileName}" needs ${formatBytes(file.size)}.`,
  )
}
