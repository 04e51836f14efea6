import { DEFAULT_UPKIT_PATHS, type UpkitPaths } from '@upkit/core'
import type { BucketStorage } from '@upkit/storage'
import type { UploadLimitsService } from '../limits/upload-limits'
import type { AnyRoutes } from '../routes/define-routes'
import type { UploadStore } from '../store/upload-store'

export interface UploadServiceOptions {
  /**
   * Prepended to every object key. Default `'uploads/'`: the sweeper lists and deletes only under it, so a
   * bucket shared with other data is safe.
   */
  readonly keyPrefix?: string
  /**
   * How long an upload may stay PENDING before the sweeper removes its row, object and multipart upload.
   * Default 24 h: long enough to resume a multi-gigabyte upload after a laptop sleeps, short enough that
   * abandoned parts do not pile up in the bucket.
   */
  readonly pendingTtlMs?: number
  /**
   * Lifetime of each signed upload request. Default 300 s: the browser signs right before sending, so minutes
   * suffice, and a leaked URL dies quickly. Expired URLs are simply signed again.
   */
  readonly signedUrlTtlSeconds?: number
  /** Lifetime of signed download URLs. Default 60 s: they are followed at once, never stored. */
  readonly downloadUrlTtlSeconds?: number
  /** Clock, for tests. Default `() => new Date()`. */
  readonly now?: () => Date
}

export interface UploadServiceDeps {
  readonly storage: BucketStorage
  readonly store: UploadStore<unknown>
  readonly routes: AnyRoutes
  /** Quotas and rate limits (`createUpkit` builds them); none when absent. */
  readonly limits?: UploadLimitsService
  /**
   * Where the HTTP routes are (`createUpkit` resolves them), for the URLs records carry (`thumbnailUrl`). Default
   * `DEFAULT_UPKIT_PATHS`, the paths `createUpkit` uses when given none.
   */
  readonly paths?: UpkitPaths
}

/**
 * What every route handler module works with: the dependencies and the options with their defaults applied, so
 * each default is decided once, here.
 */
export interface UploadContext extends UploadServiceDeps {
  readonly paths: UpkitPaths
  readonly keyPrefix: string
  readonly pendingTtlMs: number
  readonly signedUrlTtlSeconds: number
  readonly downloadUrlTtlSeconds: number
  readonly now: () => Date
}

export function resolveUploadContext(
  deps: UploadServiceDeps,
  options: UploadServiceOptions = {},
): UploadContext {
  return {
    ...deps,
    paths: deps.paths ?? DEFAULT_UPKIT_PATHS,
    keyPrefix: options.keyPrefix ?? 'uploads/',
    pendingTtlMs: options.pendingTtlMs ?? 24 * 60 * 60 * 1000,
    signedUrlTtlSeconds: options.signedUrlTtlSeconds ?? 300,
    downloadUrlTtlSeconds: options.downloadUrlTtlSeconds ?? 60,
    now: options.now ?? (() => new Date()),
  }
}
