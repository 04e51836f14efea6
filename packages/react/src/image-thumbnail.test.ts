import { afterEach, describe, expect, it, vi } from 'vitest'
import { makeThumbnail, THUMBNAIL_LIMITS, thumbnailAttempts } from './image-thumbnail'

/** A PNG header declaring `width`x`height`: what `decodeImage` reads before asking for a downscaled decode. */
function pngHeader(width: number, height: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(33)
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])
  const view = new DataView(bytes.buffer)
  view.setUint32(16, width)
  view.setUint32(20, height)
  return bytes
}

/**
 * A browser stand-in: `createImageBitmap` honours `resizeWidth`, and the canvas encodes to `bytesFor(...)` bytes,
 * answering PNG for WebP when `webp` is false (WebKit).
 */
function fakeBrowser(options: { webp: boolean; bytesFor: (edge: number, quality: number) => number }) {
  const decoded: { resizeWidth?: number }[] = []
  const encoded: { type: string; width: number; quality: number }[] = []
  vi.stubGlobal('createImageBitmap', async (blob: Blob, opts?: { resizeWidth?: number }) => {
    decoded.push(opts ?? {})
    const header = new DataView(await blob.slice(0, 24).arrayBuffer())
    const [w, h] = [header.getUint32(16), header.getUint32(20)]
    const width = opts?.resizeWidth ?? w
    return { width, height: Math.round((h * width) / w), close: () => {} }
  })
  vi.stubGlobal(
    'OffscreenCanvas',
    class {
      constructor(
        readonly width: number,
        readonly height: number,
      ) {}
      getContext() {
        return { fillRect() {}, drawImage() {}, fillStyle: '', imageSmoothingQuality: 'low' }
      }
      async convertToBlob({ type, quality }: { type: string; quality: number }) {
        const actual = type === 'image/webp' && !options.webp ? 'image/png' : type
        encoded.push({ type: actual, width: this.width, quality })
        const size = options.bytesFor(Math.max(this.width, this.height), quality)
        return new Blob([new Uint8Array(size)], { type: actual })
      }
    },
  )
  return { decoded, encoded }
}

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('thumbnail sizes', () => {
  it('tries lower qualities before smaller sizes, down to 48 px, never above 256 px', () => {
    const attempts = thumbnailAttempts(4000, 3000, 160)
    expect(attempts.slice(0, 4)).toEqual([
      { width: 160, height: 120, quality: 0.8 },
      { width: 160, height: 120, quality: 0.6 },
      { width: 160, height: 120, quality: 0.4 },
      { width: 120, height: 90, quality: 0.8 },
    ])
    expect(Math.min(...attempts.map((a) => a.width))).toBeGreaterThanOrEqual(48)
    expect(Math.max(...thumbnailAttempts(4000, 3000, 1000).map((a) => a.width))).toBe(
      THUMBNAIL_LIMITS.maxEdge,
    )
  })

  it('keeps a small image at its own size instead of upscaling or shrinking it further', () => {
    expect(thumbnailAttempts(40, 30, 160)).toEqual([
      { width: 40, height: 30, quality: 0.8 },
      { width: 40, height: 30, quality: 0.6 },
      { width: 40, height: 30, quality: 0.4 },
    ])
  })
})

describe('makeThumbnail', () => {
  const photo = (width: number, height: number) => new Blob([pngHeader(width, height)], { type: 'image/png' })

  it('asks the browser to decode a large photo downscaled, and encodes WebP at the first quality that fits', async () => {
    // 20 KiB at quality 0.8, 12 KiB at 0.6 for a 160 px edge.
    const browser = fakeBrowser({ webp: true, bytesFor: (edge, q) => Math.round(edge * q * 160) })
    const thumbnail = await makeThumbnail(photo(6000, 4000))
    expect(browser.decoded).toEqual([{ resizeWidth: 160, resizeQuality: 'high' }])
    expect(browser.encoded.map((e) => [e.type, e.width, e.quality])).toEqual([
      ['image/webp', 160, 0.8],
      ['image/webp', 160, 0.6],
    ])
    expect(thumbnail?.mimeType).toBe('image/webp')
    expect(atob(thumbnail?.base64 ?? '').length).toBe(Math.round(160 * 0.6 * 160))
    expect(atob(thumbnail?.base64 ?? '').length).toBeLessThanOrEqual(16 * 1024)
  })

  it('falls back to JPEG where the browser cannot encode WebP', async () => {
    const browser = fakeBrowser({ webp: false, bytesFor: () => 4000 })
    const thumbnail = await makeThumbnail(photo(800, 600))
    expect(thumbnail?.mimeType).toBe('image/jpeg')
    expect(browser.encoded.map((e) => e.type)).toEqual(['image/png', 'image/jpeg'])
  })

  it('gives up (null) rather than exceed the limit', async () => {
    fakeBrowser({ webp: true, bytesFor: () => 17 * 1024 })
    expect(await makeThumbnail(photo(800, 600))).toBeNull()
  })

  it('is null for what is not a raster image, without decoding it', async () => {
    const browser = fakeBrowser({ webp: true, bytesFor: () => 100 })
    expect(await makeThumbnail(new Blob(['%PDF-1.7'], { type: 'application/pdf' }))).toBeNull()
    expect(await makeThumbnail(new Blob(['<svg/>'], { type: 'image/svg+xml' }))).toBeNull()
    expect(await makeThumbnail(new Blob(['GIF89a'], { type: 'image/gif' }))).toBeNull()
    expect(browser.decoded).toEqual([])
  })

  it('is null for a pixel bomb, without decoding it', async () => {
    const browser = fakeBrowser({ webp: true, bytesFor: () => 100 })
    expect(await makeThumbnail(photo(30_000, 30_000))).toBeNull()
    expect(browser.decoded).toEqual([])
  })
})
