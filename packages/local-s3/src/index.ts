export type { CorsRule } from './cors'
export type { LifecycleRule } from './lifecycle'
export { type LocalS3Options, type LocalS3Server, startLocalS3 } from './server'
export { type LocalS3Quirks, STRICT_QUIRKS } from './strict'
