import { imageTypeNames, KiB, MiB, type ResolvedInlineImagePolicy, readImageInfo } from '@upkit/core'

/**
 * The encoded image the browser aims for (at most the policy's `maxBytes`). Far below the default 1 MiB cap on
 * purpose: an inline image (a logo) is read from the app's table on every page view, and travels as base64 (4/3
 * of its size) inside a tRPC request.
 */
export const INLINE_TARGET_BYTES = 256 * KiB

/**
 * Largest file the picker will read at all. The source is downscaled, so it may be far bigger than the image sent, but
 * a bound keeps a mistaken pick (a video, a disk image) from being read into memory.
 */
export const SOURCE_MAX_BYTES = 25 * MiB

/**
 * Largest source the picker decodes, in pixels: 50 MP is 200 MB of RGBA while decoding. A pixel bomb (a small
 * file declaring 20000x20000) is refused from its header before the browser decodes it.
 */
export const SOURCE_MAX_PIXELS = 50_000_000

/** "PNG, JPEG, WebP or GIF", from the policy, so messages never drift from what the server takes. */
export const typeNames = imageTypeNames

export const notAnImageMessage = (types: readonly string[]) =>
  `That file is not an image: choose a ${typeNames(types)}.`
export const svgRefusedMessage = (types: readonly string[]) =>
  `SVG images are not accepted because they can carry script: choose a ${typeNames(types)}.`

/** An image ready to send: the encoded bytes as base64 plus what the preview needs. */
export interface PreparedImage {
  readonly base64: string
  readonly blob: Blob
  readonly mimeType: string
  readonly width: number
  readonly height: number
}

/**
 * The largest size with the same aspect ratio that fits in `max`x`max`; images already inside are kept as they
 * are (upscaling only adds bytes). Never returns a zero side, so a 5000x1 banner still encodes.
 */
export function fitWithin(width: number, height: number, max: number): { width: number; height: number } {
  if (!(width > 0 && height > 0 && max > 0)) throw new RangeError('Sizes must be positive.')
  const scale = Math.min(1, max / width, max / height)
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  }
}

/**
 * Standard base64 (with padding), as the server's strict decoder expects. Chunked because spreading a whole
 * image into `String.fromCharCode` overflows the call stack.
 */
export function bytesToBase64(bytes: Uint8Array): string {
  const CHUNK = 0x8000
  let binary = ''
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK))
  }
  return btoa(binary)
}

/**
 * Why `file` cannot be the source of an inline image, or null. Judged from its bytes, not its name or reported type: a text
 * file renamed to .png is refused, and so is SVG (it can carry script).
 */
export function sourceRefusal(
  file: { readonly name: string; readonly type: string; readonly size: number },
  bytes: Uint8Array,
  types: readonly string[],
): string | null {
  const looksSvg =
    file.type === 'image/svg+xml' ||
    /\.svgz?$/i.test(file.name) ||
    /^\s*<(\?xml|svg)/i.test(new TextDecoder().decode(bytes.subarray(0, 256)))
  if (looksSvg) return svgRefusedMessage(types)
  if (file.size === 0) return `That file is empty: choose a ${typeNames(types)}.`
  if (file.size > SOURCE_MAX_BYTES) {
    return `That image is over ${SOURCE_MAX_BYTES / MiB} MiB: choose a smaller one.`
  }
  const info = readImageInfo(bytes)
  if (!info || !types.includes(info.type)) return notAnImageMessage(types)
  if (info.width * info.height > SOURCE_MAX_PIXELS) {
    return `That image is ${info.width}×${info.height} pixels, too large to resize here: choose a smaller one.`
  }
  return null
}

/** Encoder settings tried in order until the result fits the target bytes: quality first, then size. */
export function encodeAttempts(
  width: number,
  height: number,
  targetSize: number,
): { width: number; height: number; quality: number }[] {
  const attempts: { width: number; height: number; quality: number }[] = []
  let size = fitWithin(width, height, targetSize)
  for (const quality of [0.92, 0.8, 0.65]) attempts.push({ ...size, quality })
  // Below 64 px an image such as a logo stops being recognisable; at that size any format fits the target many times over.
  while (Math.max(size.width, size.height) > 64) {
    size = fitWithin(size.width, size.height, Math.floor(Math.max(size.width, size.height) * 0.75))
    attempts.push({ ...size, quality: 0.8 })
  }
  return attempts
}

/**
 * Decodes `file`, downscales it to fit the policy's `targetSize` and re-encodes it as WebP (PNG where the
 * browser cannot encode WebP). Re-encoding also drops metadata (EXIF location) and anything appended to the
 * image. Rejects with a message meant for people.
 */
export async function prepareInlineImage(
  file: File,
  policy: ResolvedInlineImagePolicy,
): Promise<PreparedImage> {
  const bytes = new Uint8Array(await file.slice(0, Math.min(file.size, SOURCE_MAX_BYTES + 1)).arrayBuffer())
  const refusal = sourceRefusal(file, bytes, policy.types)
  if (refusal) throw new Error(refusal)

  let bitmap: ImageBitmap
  try {
    bitmap = await createImageBitmap(new Blob([bytes], { type: file.type }))
  } catch {
    throw new Error('That image could not be read: it may be damaged. Choose another one.')
  }
  try {
    const canvas = document.createElement('canvas')
    let last: Blob | null = null
    let lastSize = { width: 0, height: 0 }
    for (const attempt of encodeAttempts(bitmap.width, bitmap.height, policy.targetSize)) {
      canvas.width = attempt.width
      canvas.height = attempt.height
      const context = canvas.getContext('2d')
      if (!context) throw new Error('This browser cannot resize images.')
      context.imageSmoothingQuality = 'high'
      context.clearRect(0, 0, attempt.width, attempt.height)
      context.drawImage(bitmap, 0, 0, attempt.width, attempt.height)
      last = await canvasToBlob(canvas, 'image/webp', attempt.quality)
      // Browsers without a WebP encoder return PNG from the same call; PNG ignores quality, so only size helps.
      lastSize = attempt
      if (last.size <= Math.min(INLINE_TARGET_BYTES, policy.maxBytes)) break
    }
    if (!last || last.size > policy.maxBytes) {
      throw new Error(
        `That image could not be made small enough for the ${policy.label}: choose a simpler one.`,
      )
    }
    const encoded = new Uint8Array(await last.arrayBuffer())
    return {
      base64: bytesToBase64(encoded),
      blob: last,
      mimeType: last.type,
      width: lastSize.width,
      height: lastSize.height,
    }
  } finally {
    bitmap.close()
  }
}

function canvasToBlob(canvas: HTMLCanvasElement, type: string, quality: number): Promise<Blob> {
  return new Promise((resolve, reject) => {
    canvas.toBlob(
      (blob) => (blob ? resolve(blob) : reject(new Error('This browser could not encode the image.'))),
      type,
      quality,
    )
  })
}
