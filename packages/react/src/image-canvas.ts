import { readImageInfo } from '@upkit/core'
import { fitWithin } from './inline-image'

/** Bytes read to find an image's dimensions: a JPEG's size comes after its EXIF block, which phones fill. */
const HEADER_BYTES = 256 * 1024

/**
 * Images past this many pixels are not decoded for a preview or recompressed: a small file can declare a
 * 30000x30000 picture (3.6 GB of RGBA) and take the tab down with it.
 */
export const MAX_DECODE_PIXELS = 100_000_000

/** Types the browser paints but that must not be redrawn: SVG can carry script and GIF animation would be lost. */
const NEVER_DRAWN = new Set(['image/svg+xml', 'image/gif'])

/** Whether a blob of this type is worth decoding as a raster image. */
export function isRasterImage(type: string): boolean {
  const base = type.split(';')[0]?.trim().toLowerCase() ?? ''
  return base.startsWith('image/') && !NEVER_DRAWN.has(base)
}

/**
 * Decodes `blob`, asking the browser to downscale while decoding when it can (`createImageBitmap`'s
 * `resizeWidth`), so a 20 MB photo becomes a bitmap of about `edge` pixels rather than 48 MP of RGBA. The result
 * can still be somewhat larger than `edge` (EXIF rotation, browsers without resize); callers fit it again when
 * drawing. `null` when the bytes are not a decodable image or declare a pixel bomb.
 */
export async function decodeImage(blob: Blob, edge: number): Promise<ImageBitmap | null> {
  if (typeof createImageBitmap !== 'function') return null
  const header = new Uint8Array(await blob.slice(0, HEADER_BYTES).arrayBuffer())
  const info = readImageInfo(header)
  if (info && info.width * info.height > MAX_DECODE_PIXELS) return null
  if (info?.type === 'image/gif') return null
  try {
    if (info && Math.max(info.width, info.height) > edge) {
      // Only the width: the browser keeps the aspect ratio itself, which stays right when EXIF rotates the image.
      const { width } = fitWithin(info.width, info.height, edge)
      try {
        return await createImageBitmap(blob, { resizeWidth: width, resizeQuality: 'high' })
      } catch {
        // Browsers without resize options reject the options object; decode at full size below.
      }
    }
    return await createImageBitmap(blob)
  } catch {
    return null
  }
}

type Canvas2D = OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D

/** A canvas of the given size: an `OffscreenCanvas` where there is one (no DOM node, usable in a worker). */
function makeCanvas(width: number, height: number): { context: Canvas2D; encode: Encoder } | null {
  if (typeof OffscreenCanvas === 'function') {
    const canvas = new OffscreenCanvas(width, height)
    const context = canvas.getContext('2d')
    if (context) return { context, encode: (type, quality) => canvas.convertToBlob({ type, quality }) }
  }
  if (typeof document === 'undefined') return null
  const canvas = document.createElement('canvas')
  canvas.width = width
  canvas.height = height
  const context = canvas.getContext('2d')
  if (!context) return null
  return {
    context,
    encode: (type, quality) =>
      new Promise((resolve, reject) =>
        canvas.toBlob(
          (result) =>
            result ? resolve(result) : reject(new Error('The browser could not encode the image.')),
          type,
          quality,
        ),
      ),
  }
}

type Encoder = (type: string, quality: number) => Promise<Blob>

/** One drawing of a bitmap at a size, encodable at several qualities. */
export interface DrawnImage {
  readonly width: number
  readonly height: number
  /**
   * The image in `type` at `quality`. A browser without an encoder for `type` answers PNG (WebKit has no WebP
   * encoder): check the result's `type`.
   */
  encode(type: string, quality: number): Promise<Blob>
}

/**
 * Draws `bitmap` scaled to `width` x `height`. `opaque` paints white first: JPEG has no alpha, and a transparent
 * screenshot would otherwise turn black.
 */
export function drawImage(
  bitmap: ImageBitmap,
  width: number,
  height: number,
  opaque: boolean,
): DrawnImage | null {
  const canvas = makeCanvas(width, height)
  if (!canvas) return null
  const { context } = canvas
  if (opaque) {
    context.fillStyle = '#fff'
    context.fillRect(0, 0, width, height)
  }
  context.imageSmoothingQuality = 'high'
  context.drawImage(bitmap, 0, 0, width, height)
  return { width, height, encode: canvas.encode }
}
