import { THUMBNAIL_LIMITS } from '@upkit/core'
import { decodeImage, drawImage, isRasterImage } from './image-canvas'
import { bytesToBase64, fitWithin } from './inline-image'

export { THUMBNAIL_LIMITS }

export interface ThumbnailOptions {
  /**
   * Longest edge in pixels, at most 256 (`THUMBNAIL_LIMITS.maxEdge`). Default 160: lists show thumbnails at about
   * 48 CSS pixels, and 160 stays sharp on a 3x phone screen while a WebP of it is usually 3-8 KiB.
   */
  readonly maxEdge?: number
  /** Largest encoded size, at most 16 KiB (`THUMBNAIL_LIMITS.maxBytes`). Default 16 KiB, the server's limit. */
  readonly maxBytes?: number
}

export interface Thumbnail {
  /** The encoded image, standard base64 with padding (what `confirm({ thumbnail })` takes). */
  readonly base64: string
  /** `image/webp`, or `image/jpeg` where the browser cannot encode WebP (WebKit). */
  readonly mimeType: string
}

/** Below this edge a thumbnail stops showing what the picture is; smaller sizes are not tried. */
const MIN_EDGE = 48

/** Encoder qualities tried at each size, best first. */
const QUALITIES = [0.8, 0.6, 0.4] as const

/**
 * The sizes and qualities tried, in order, until an encoding fits `maxBytes`: quality first (a smaller file at
 * the same size), then the size in steps of 3/4 down to 48 px. Pure, so it is tested without a browser.
 */
export function thumbnailAttempts(
  width: number,
  height: number,
  maxEdge: number,
): { width: number; height: number; quality: number }[] {
  const attempts: { width: number; height: number; quality: number }[] = []
  let edge = Math.max(1, Math.min(maxEdge, THUMBNAIL_LIMITS.maxEdge))
  for (;;) {
    const size = fitWithin(width, height, edge)
    for (const quality of QUALITIES) attempts.push({ ...size, quality })
    const next = Math.floor(edge * 0.75)
    if (next < MIN_EDGE || Math.max(size.width, size.height) < edge) break
    edge = next
  }
  return attempts
}

/**
 * A small preview of an image, made in the browser at upload time so lists never download the original (a 20 MB
 * photo) to show 48 pixels of it: decoded downscaled where the browser can (`createImageBitmap` with
 * `resizeWidth`), drawn at `maxEdge` on a canvas, encoded as WebP (JPEG where WebP cannot be encoded) and made
 * smaller until it fits `maxBytes`. Re-encoding drops EXIF (location) too. `null` for anything that is not a
 * raster image (PDF, SVG, GIF), an image the browser cannot decode, or one that cannot be made small enough.
 */
export async function makeThumbnail(blob: Blob, options: ThumbnailOptions = {}): Promise<Thumbnail | null> {
  if (!isRasterImage(blob.type)) return null
  const maxEdge = Math.min(options.maxEdge ?? 160, THUMBNAIL_LIMITS.maxEdge)
  const maxBytes = Math.min(options.maxBytes ?? THUMBNAIL_LIMITS.maxBytes, THUMBNAIL_LIMITS.maxBytes)
  const bitmap = await decodeImage(blob, maxEdge)
  if (!bitmap) return null
  try {
    let type = 'image/webp'
    for (const attempt of thumbnailAttempts(bitmap.width, bitmap.height, maxEdge)) {
      const drawn = drawImage(bitmap, attempt.width, attempt.height, type === 'image/jpeg')
      if (!drawn) return null
      let encoded = await drawn.encode(type, attempt.quality)
      if (encoded.type !== type) {
        // No WebP encoder (the browser answered PNG): JPEG, drawn on white, is the next smallest everywhere.
        type = 'image/jpeg'
        const opaque = drawImage(bitmap, attempt.width, attempt.height, true)
        if (!opaque) return null
        encoded = await opaque.encode(type, attempt.quality)
        if (encoded.type !== type) return null
      }
      if (encoded.size <= maxBytes) {
        return { base64: bytesToBase64(new Uint8Array(await encoded.arrayBuffer())), mimeType: type }
      }
    }
    return null
  } catch {
    return null
  } finally {
    bitmap.close()
  }
}
