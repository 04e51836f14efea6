import { KiB, LOGO_POLICY, MiB, readImageInfo } from '@upkit/core'

/**
 * The encoded logo the browser aims for. Far below the server's 1 MiB cap on purpose: the logo is read from the
 * database on every page view, and travels as base64 (4/3 of its size) inside a tRPC request.
 */
export const LOGO_TARGET_BYTES = 256 * KiB

/**
 * Largest file the picker will read at all. The source is downscaled, so it may be far bigger than a logo, but
 * a bound keeps a mistaken pick (a video, a disk image) from being read into memory.
 */
export const LOGO_SOURCE_MAX_BYTES = 25 * MiB

/**
 * Largest source the picker decodes, in pixels: 50 MP is 200 MB of RGBA while decoding. A pixel bomb (a small
 * file declaring 20000x20000) is refused from its header before the browser decodes it.
 */
export const LOGO_SOURCE_MAX_PIXELS = 50_000_000

export const NOT_AN_IMAGE_MESSAGE = 'That file is not an image: choose a PNG, JPEG, WebP or GIF.'
export const SVG_REFUSED_MESSAGE =
  'SVG logos are not accepted because they can carry script: choose a PNG, JPEG, WebP or GIF.'

/** A logo ready to send: the encoded bytes as base64 plus what the preview needs. */
export interface PreparedLogo {
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
 * Why `file` cannot be a logo source, or null. Judged from its bytes, not its name or reported type: a text
 * file renamed to .png is refused, and so is SVG (it can carry script).
 */
export function logoSourceRefusal(
  file: { readonly name: string; readonly type: string; readonly size: number },
  bytes: Uint8Array,
): string | null {
  const looksSvg =
    file.type === 'image/svg+xml' ||
    /\.svgz?$/i.test(file.name) ||
    /^\s*<(\?xml|svg)/i.test(new TextDecoder().decode(bytes.subarray(0, 256)))
  if (looksSvg) return SVG_REFUSED_MESSAGE
  if (file.size === 0) return 'That file is empty: choose a PNG, JPEG, WebP or GIF.'
  if (file.size > LOGO_SOURCE_MAX_BYTES) {
    return `That image is over ${LOGO_SOURCE_MAX_BYTES / MiB} MiB: choose a smaller one.`
  }
  const info = readImageInfo(bytes)
  if (!info || !(LOGO_POLICY.allowedTypes as readonly string[]).includes(info.type))
    return NOT_AN_IMAGE_MESSAGE
  if (info.width * info.height > LOGO_SOURCE_MAX_PIXELS) {
    return `That image is ${info.width}×${info.height} pixels, too large to resize here: choose a smaller one.`
  }
  return null
}

/** Encoder settings tried in order until the result fits `LOGO_TARGET_BYTES`: quality first, then size. */
export function encodeAttempts(
  width: number,
  height: number,
): { width: number; height: number; quality: number }[] {
  const attempts: { width: number; height: number; quality: number }[] = []
  let size = fitWithin(width, height, LOGO_POLICY.targetSize)
  for (const quality of [0.92, 0.8, 0.65]) attempts.push({ ...size, quality })
  // Below 64 px a logo stops being recognisable; at that size any format fits the target many times over.
  while (Math.max(size.width, size.height) > 64) {
    size = fitWithin(size.width, size.height, Math.floor(Math.max(size.width, size.height) * 0.75))
    attempts.push({ ...size, quality: 0.8 })
  }
  return attempts
}

/**
 * Decodes `file`, downscales it to fit `LOGO_POLICY.targetSize` and re-encodes it as WebP (PNG where the
 * browser cannot encode WebP). Re-encoding also drops metadata (EXIF location) and anything appended to the
 * image. Rejects with a message meant for people.
 */
export async function prepareLogo(file: File): Promise<PreparedLogo> {
  const bytes = new Uint8Array(
    await file.slice(0, Math.min(file.size, LOGO_SOURCE_MAX_BYTES + 1)).arrayBuffer(),
  )
  const refusal = logoSourceRefusal(file, bytes)
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
    for (const attempt of encodeAttempts(bitmap.width, bitmap.height)) {
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
      if (last.size <= LOGO_TARGET_BYTES) break
    }
    if (!last || last.size > LOGO_POLICY.maxBytes) {
      throw new Error('That image could not be made small enough for a logo: choose a simpler one.')
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
