import { sniffImageType } from './sniff'

export interface ImageInfo {
  readonly type: 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp'
  readonly width: number
  readonly height: number
}

const u16be = (b: Uint8Array, i: number) => ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0)
const u16le = (b: Uint8Array, i: number) => (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8)
const u24le = (b: Uint8Array, i: number) => u16le(b, i) | ((b[i + 2] ?? 0) << 16)
const u32be = (b: Uint8Array, i: number) => ((b[i] ?? 0) * 2 ** 24 + (u16be(b, i + 1) << 8)) | (b[i + 3] ?? 0)

/**
 * Reads an image's type and dimensions from its header only, without decoding pixels, so a server can refuse a
 * pixel bomb (a tiny file that decodes to gigabytes) before anything renders it. `null` when the bytes are not
 * one of the accepted image types or the header is truncated or malformed.
 */
export function readImageInfo(bytes: Uint8Array): ImageInfo | null {
  const type = sniffImageType(bytes)
  const size = type ? readDimensions(type, bytes) : null
  if (!type || !size || size.width <= 0 || size.height <= 0) return null
  return { type, ...size }
}

function readDimensions(type: ImageInfo['type'], b: Uint8Array): { width: number; height: number } | null {
  switch (type) {
    case 'image/png':
      // Signature (8), IHDR length (4), "IHDR" (4), width (4), height (4).
      if (b.length < 24 || String.fromCharCode(...b.subarray(12, 16)) !== 'IHDR') return null
      return { width: u32be(b, 16), height: u32be(b, 20) }
    case 'image/gif':
      if (b.length < 10) return null
      return { width: u16le(b, 6), height: u16le(b, 8) }
    case 'image/webp':
      return readWebp(b)
    case 'image/jpeg':
      return readJpeg(b)
  }
}

function readWebp(b: Uint8Array): { width: number; height: number } | null {
  if (b.length < 30) return null
  const chunk = String.fromCharCode(...b.subarray(12, 16))
  if (chunk === 'VP8 ') {
    // Lossy: after the 3-byte frame tag and the 0x9d012a start code, 14-bit width and height.
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return null
    return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff }
  }
  if (chunk === 'VP8L') {
    if (b[20] !== 0x2f) return null
    const bits = (b[21] ?? 0) | ((b[22] ?? 0) << 8) | ((b[23] ?? 0) << 16) | ((b[24] ?? 0) << 24)
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 }
  }
  if (chunk === 'VP8X') return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 }
  return null
}

function readJpeg(b: Uint8Array): { width: number; height: number } | null {
  let i = 2
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return null
    const marker = b[i + 1] ?? 0
    if (marker === 0xff) {
      i++
      continue
    }
    // Standalone markers carry no length.
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2
      continue
    }
    const length = u16be(b, i + 2)
    if (length < 2) return null
    // SOF0..SOF15 hold the frame size, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: u16be(b, i + 5), width: u16be(b, i + 7) }
    }
    i += 2 + length
  }
  return null
}
