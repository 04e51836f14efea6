import { UpkitError } from './errors'
import { type ImageInfo, readImageInfo } from './image-info'
import { IMAGE_TYPES } from './policies'
import { formatBytes, MiB } from './sizes'

/**
 * Logos live in the database, so they are capped hard: they are read on every page view and their bytes travel
 * as base64 inside a tRPC request.
 */
export const LOGO_POLICY = {
  /** Decoded bytes. The browser downscales to 512x512 first, which lands far below this. */
  maxBytes: 1 * MiB,
  /** Refuses pixel bombs: a few KiB of PNG can decode to 20000x20000 pixels (1.6 GB of RGBA). */
  maxWidth: 4096,
  maxHeight: 4096,
  /** The size the browser fits logos into before sending. */
  targetSize: 512,
  /** SVG is refused on purpose: it can carry script. */
  allowedTypes: IMAGE_TYPES,
} as const

/** Base64 length of `LOGO_POLICY.maxBytes` (4 characters per 3 bytes), the cap on the encoded input. */
export const LOGO_MAX_BASE64_LENGTH = Math.ceil(LOGO_POLICY.maxBytes / 3) * 4

/** Checks decoded logo bytes: size, magic bytes (PNG, JPEG, WebP, GIF only) and header dimensions. */
export function assertLogoAllowed(bytes: Uint8Array): ImageInfo {
  if (bytes.length === 0) throw new UpkitError('FILE_EMPTY', 'The logo is empty.')
  if (bytes.length > LOGO_POLICY.maxBytes) {
    throw new UpkitError(
      'FILE_TOO_LARGE',
      `The logo is ${formatBytes(bytes.length)}; logos can be at most ${formatBytes(LOGO_POLICY.maxBytes)}.`,
    )
  }
  const info = readImageInfo(bytes)
  if (!info) {
    throw new UpkitError(
      'FILE_TYPE_NOT_ALLOWED',
      'The logo must be a PNG, JPEG, WebP or GIF image (SVG is not accepted).',
    )
  }
  if (info.width > LOGO_POLICY.maxWidth || info.height > LOGO_POLICY.maxHeight) {
    throw new UpkitError(
      'IMAGE_TOO_LARGE',
      `The logo is ${info.width}×${info.height} pixels; logos can be at most ${LOGO_POLICY.maxWidth}×${LOGO_POLICY.maxHeight}.`,
    )
  }
  return info
}
