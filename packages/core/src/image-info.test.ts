import { describe, expect, it } from 'vitest'
import { readImageInfo } from './image-info'

function png(width: number, height: number): Uint8Array {
  const b = new Uint8Array(33)
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])
  new DataView(b.buffer).setUint32(16, width)
  new DataView(b.buffer).setUint32(20, height)
  return b
}

function jpeg(width: number, height: number): Uint8Array {
  // SOI, an APP0 segment to skip, then SOF0 with the frame size.
  const app0 = [0xff, 0xe0, 0x00, 0x10, ...new Array(14).fill(0)]
  const sof0 = [
    0xff,
    0xc0,
    0x00,
    0x11,
    0x08,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    3,
    ...new Array(9).fill(0),
  ]
  return new Uint8Array([0xff, 0xd8, ...app0, ...sof0])
}

function webpVp8x(width: number, height: number): Uint8Array {
  const b = new Uint8Array(40)
  b.set(new TextEncoder().encode('RIFF'), 0)
  b.set(new TextEncoder().encode('WEBPVP8X'), 8)
  const w = width - 1
  const h = height - 1
  b.set([w & 0xff, (w >> 8) & 0xff, (w >> 16) & 0xff, h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff], 24)
  return b
}

describe('readImageInfo', () => {
  it('reads PNG, JPEG, GIF and WebP dimensions from headers', () => {
    expect(readImageInfo(png(640, 480))).toEqual({ type: 'image/png', width: 640, height: 480 })
    expect(readImageInfo(jpeg(1024, 768))).toEqual({ type: 'image/jpeg', width: 1024, height: 768 })
    expect(
      readImageInfo(new Uint8Array([...new TextEncoder().encode('GIF89a'), 0x20, 0x00, 0x10, 0x00])),
    ).toEqual({
      type: 'image/gif',
      width: 32,
      height: 16,
    })
    expect(readImageInfo(webpVp8x(20000, 300))).toEqual({ type: 'image/webp', width: 20000, height: 300 })
  })

  it('reports a pixel bomb honestly rather than failing to read it', () => {
    expect(readImageInfo(png(20000, 20000))).toMatchObject({ width: 20000, height: 20000 })
  })

  it('returns null for non-images, truncated headers and zero sizes', () => {
    expect(
      readImageInfo(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>')),
    ).toBeNull()
    expect(readImageInfo(png(10, 10).subarray(0, 20))).toBeNull()
    expect(readImageInfo(png(0, 10))).toBeNull()
    expect(readImageInfo(jpeg(10, 10).subarray(0, 12))).toBeNull()
  })
})
