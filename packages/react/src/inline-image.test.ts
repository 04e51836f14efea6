import { IMAGE_TYPES } from '@upkit/core'
import { describe, expect, it } from 'vitest'
import {
  bytesToBase64,
  encodeAttempts,
  fitWithin,
  notAnImageMessage,
  SOURCE_MAX_BYTES,
  sourceRefusal,
  svgRefusedMessage,
  typeNames,
} from './inline-image'

const NOT_AN_IMAGE_MESSAGE = notAnImageMessage(IMAGE_TYPES)
const SVG_REFUSED_MESSAGE = svgRefusedMessage(IMAGE_TYPES)

/** A PNG header (signature + IHDR) declaring `width`x`height`: enough for header checks, no pixels needed. */
function pngHeader(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(33)
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])
  new DataView(bytes.buffer).setUint32(16, width)
  new DataView(bytes.buffer).setUint32(20, height)
  return bytes
}

describe('fitWithin', () => {
  it('scales the longer side down to the box and keeps the aspect ratio', () => {
    expect(fitWithin(600, 400, 512)).toEqual({ width: 512, height: 341 })
    expect(fitWithin(400, 600, 512)).toEqual({ width: 341, height: 512 })
    expect(fitWithin(4096, 4096, 512)).toEqual({ width: 512, height: 512 })
  })

  it('never upscales a small image', () => {
    expect(fitWithin(120, 80, 512)).toEqual({ width: 120, height: 80 })
    expect(fitWithin(512, 512, 512)).toEqual({ width: 512, height: 512 })
  })

  it('never returns a zero side for extreme aspect ratios', () => {
    expect(fitWithin(10_000, 1, 512)).toEqual({ width: 512, height: 1 })
  })

  it('refuses sizes that are not positive', () => {
    expect(() => fitWithin(0, 10, 512)).toThrow(RangeError)
    expect(() => fitWithin(Number.NaN, 10, 512)).toThrow(RangeError)
  })
})

describe('bytesToBase64', () => {
  it('matches the RFC 4648 test vectors, padding included', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'Zg=='],
      ['fo', 'Zm8='],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg=='],
      ['fooba', 'Zm9vYmE='],
      ['foobar', 'Zm9vYmFy'],
    ]
    for (const [input, expected] of vectors)
      expect(bytesToBase64(new TextEncoder().encode(input))).toBe(expected)
    expect(bytesToBase64(Uint8Array.of(0xfb, 0xff, 0xbf))).toBe('+/+/')
  })

  it('round-trips inputs larger than one chunk (the call-stack limit of fromCharCode)', () => {
    const bytes = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7 + (i >> 8)) & 0xff)
    const encoded = bytesToBase64(bytes)
    expect(encoded).toMatch(/^[A-Za-z0-9+/]*={0,2}$/)
    expect(encoded.length).toBe(400_000)
    expect(Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0))).toEqual(bytes)
  })
})

describe('sourceRefusal', () => {
  const text = new TextEncoder()

  it('accepts a real image header whatever its name says', () => {
    expect(
      sourceRefusal({ name: 'logo.bin', type: '', size: 33 }, pngHeader(600, 400), IMAGE_TYPES),
    ).toBeNull()
  })

  it('refuses a text file named .png', () => {
    const bytes = text.encode('definitely not a picture')
    expect(
      sourceRefusal({ name: 'logo.png', type: 'image/png', size: bytes.length }, bytes, IMAGE_TYPES),
    ).toBe(NOT_AN_IMAGE_MESSAGE)
  })

  it('refuses SVG by type, by name and by content', () => {
    const svg = text.encode('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    expect(sourceRefusal({ name: 'a', type: 'image/svg+xml', size: svg.length }, svg, IMAGE_TYPES)).toBe(
      SVG_REFUSED_MESSAGE,
    )
    expect(sourceRefusal({ name: 'a.SVG', type: '', size: 3 }, text.encode('abc'), IMAGE_TYPES)).toBe(
      SVG_REFUSED_MESSAGE,
    )
    expect(sourceRefusal({ name: 'a.png', type: 'image/png', size: svg.length }, svg, IMAGE_TYPES)).toBe(
      SVG_REFUSED_MESSAGE,
    )
  })

  it('refuses empty, oversized and pixel-bomb sources before decoding', () => {
    expect(
      sourceRefusal({ name: 'a.png', type: 'image/png', size: 0 }, new Uint8Array(), IMAGE_TYPES),
    ).toMatch(/empty/)
    expect(
      sourceRefusal(
        { name: 'a.png', type: 'image/png', size: SOURCE_MAX_BYTES + 1 },
        pngHeader(10, 10),
        IMAGE_TYPES,
      ),
    ).toMatch(/over 25 MiB/)
    expect(
      sourceRefusal({ name: 'a.png', type: 'image/png', size: 33 }, pngHeader(20_000, 20_000), IMAGE_TYPES),
    ).toMatch(/20000×20000 pixels/)
  })
})

describe('typeNames', () => {
  it('names the policy\u2019s types for people', () => {
    expect(typeNames(IMAGE_TYPES)).toBe('PNG, JPEG, WebP or GIF')
    expect(typeNames(['image/png'])).toBe('PNG')
  })
})

describe('encodeAttempts', () => {
  it('starts at the policy size and only ever gets smaller', () => {
    const attempts = encodeAttempts(600, 400, 512)
    expect(attempts[0]).toEqual({ width: 512, height: 341, quality: 0.92 })
    for (let i = 1; i < attempts.length; i++) {
      const previous = attempts[i - 1] as { width: number; quality: number }
      const current = attempts[i] as { width: number; quality: number }
      expect(current.width <= previous.width).toBe(true)
      expect(current.width < previous.width || current.quality < previous.quality).toBe(true)
    }
    const last = attempts.at(-1) as { width: number; height: number }
    expect(Math.max(last.width, last.height)).toBeLessThanOrEqual(64)
  })
})
