import { KiB } from './sizes'

/**
 * What a thumbnail sent with `confirm` may be, for the browser that makes it and the server that checks it. 16 KiB
 * and 256 px: a list shows it at about 48 CSS pixels, which a WebP of 160-256 px covers sharply on any screen in a
 * few KiB, and a row of the table stays small. WebP, or PNG/JPEG where the browser cannot encode WebP; never GIF
 * (an animation is not a preview) or SVG (script).
 */
export const THUMBNAIL_LIMITS = {
  maxBytes: 16 * KiB,
  maxEdge: 256,
  types: ['image/webp', 'image/png', 'image/jpeg'],
} as const
