import { afterEach, describe, expect, it, vi } from 'vitest'
import { compressedFileName, compressImage } from './image-compressor'

/** A PNG header declaring `width`x`height`, padded to `size` bytes (the "file size" compression must beat). */
function png(width: number, height: number, size: number, type = 'image/png'): Blob {
  const bytes = new Uint8Array(Math.max(size, 33))
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])
  const view = new DataView(bytes.buffer)
  view.setUint32(16, width)
  view.setUint32(20, height)
  return new Blob([bytes], { type })
}

/** `createImageBitmap` honouring `resizeWidth`; a canvas encoding to `bytes` bytes (PNG for WebP without `webp`). */
function fakeBrowser(options: { webp: boolean; bytes: number }) {
  const encoded: { type: string; width: number; height: number; quality: number }[] = []
  vi.stubGlobal('createImageBitmap', async (blob: Blob, opts?: { resizeWidth?: number }) => {
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
        encoded.push({ type: actual, width: this.width, height: this.height, quality })
        return new Blob([new Uint8Array(options.bytes)], { type: actual })
      }
    },
  )
  return encoded
}

afterEach(() => {
  vi.unstubAllGlobals()
})

const webp = { maxEdge: 2560, type: 'image/webp', quality: 0.85 } as const
const images = ['image/*']

describe('compressImage', () => {
  it('resizes a large screenshot to the max edge and re-encodes it at the route quality', async () => {
    const encoded = fakeBrowser({ webp: true, bytes: 300_000 })
    const result = await compressImage(png(3840, 2160, 5_000_000), webp, images)
    expect(result?.type).toBe('image/webp')
    expect(result?.size).toBe(300_000)
    expect(encoded).toEqual([{ type: 'image/webp', width: 2560, height: 1440, quality: 0.85 }])
  })

  it('keeps the original when the result is not smaller', async () => {
    fakeBrowser({ webp: true, bytes: 5_000 })
    expect(await compressImage(png(400, 300, 5_000), webp, images)).toBeNull()
    expect(await compressImage(png(400, 300, 4_000), webp, images)).toBeNull()
  })

  it('never touches SVG, GIF or non-images', async () => {
    const encoded = fakeBrowser({ webp: true, bytes: 10 })
    expect(await compressImage(png(4000, 3000, 1e6, 'image/gif'), webp, images)).toBeNull()
    expect(await compressImage(png(4000, 3000, 1e6, 'image/svg+xml'), webp, images)).toBeNull()
    expect(await compressImage(png(4000, 3000, 1e6, 'application/pdf'), webp, images)).toBeNull()
    expect(encoded).toEqual([])
  })

  it('without a WebP encoder, re-encodes a JPEG photo as JPEG only when the route takes JPEG', async () => {
    fakeBrowser({ webp: false, bytes: 1000 })
    const photo = png(4000, 3000, 1e6, 'image/jpeg')
    expect((await compressImage(photo, webp, images))?.type).toBe('image/jpeg')
    expect(await compressImage(photo, webp, ['image/webp', 'image/png'])).toBeNull()
    // A PNG can be transparent, which JPEG would paint over: it stays as it is.
    expect(await compressImage(png(4000, 3000, 1e6), webp, images)).toBeNull()
  })
})

describe('compressedFileName', () => {
  it('names the file after its new type', () => {
    expect(compressedFileName('shot.png', 'image/webp')).toBe('shot.webp')
    expect(compressedFileName('IMG_0001.HEIC.jpeg', 'image/jpeg')).toBe('IMG_0001.HEIC.jpg')
    expect(compressedFileName('pasted', 'image/webp')).toBe('pasted.webp')
    expect(compressedFileName('.png', 'image/webp')).toBe('.png.webp')
  })
})
