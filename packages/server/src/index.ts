export type { CreateUpkitOptions, Upkit } from './create-upkit'
export { createUpkit } from './create-upkit'
export { retryAfterOf, upkitErrorData, upkitErrorFormatter } from './errors'
export type { HealthCheck, HealthReport } from './health'
export type { UpkitHttpHandler } from './http'
export { isLocalProbe } from './http'
export type { Quota, QuotaArgs, QuotaFunction, StoredUsage, UploadLimits, UsageScope } from './limits/quota'
export type { RateLimit, RateLimiter, RateLimitHit } from './limits/rate-limit'
export { rateLimitHit, windowStartOf } from './limits/rate-limit'
export type { RateLimitsOptions } from './limits/upload-limits'
export { DEFAULT_RATE_LIMITS } from './limits/upload-limits'
export type { OriginCheckOptions, OriginGuard } from './origin-check'
export { originCheck } from './origin-check'
export type { UpkitProcedures } from './procedures'
export type {
  Authorized,
  BucketHookArgs,
  BucketRoute,
  BucketRouteCall,
  BucketRouteConfig,
  InlineHookArgs,
  InlineImage,
  InlineRoute,
  InlineRouteCall,
  InlineRouteConfig,
} from './routes/define-routes'
export { uploadRoutes } from './routes/define-routes'
export type {
  ConfirmEntry,
  InsertResult,
  JsonValue,
  NewUploadEntry,
  NewUploadRow,
  PendingToCheckQuery,
  StoredThumbnail,
  SweepCursors,
  UploadRow,
  UploadScope,
  UploadStatus,
  UploadStore,
} from './store/upload-store'
export type { SweepOptions, SweepReport } from './sweeper'
export type { UploadServiceOptions } from './uploads/upload-service'
