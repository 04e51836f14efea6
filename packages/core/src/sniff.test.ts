import { describe, expect, it } from 'vitest'
import { bytesMatchType, sniffImageType } from './sniff'

const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(
    parts.flatMap((part) => (typeof part === 'string' ? [...new TextEncoder().encode(part)] : part)),
  )

const png = bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'rest')
const jpeg = bytes([0xff, 0xd8, 0xff, 0xe0], 'JFIF')
const webp = bytes('RIFF', [1, 2, 3, 4], 'WEBPVP8 ')
const html = bytes('<!DOCTYPE html><script>alert(1)</script>')

describe('bytesMatchType', () => {
  it('recognises the image signatures', () => {
    expect(bytesMatchType('image/png', png)).toBe(true)
    expect(bytesMatchType('image/jpeg', jpeg)).toBe(true)
    expect(bytesMatchType('image/webp', webp)).toBe(true)
    expect(bytesMatchType('image/gif', bytes('GIF89a', [1, 0]))).toBe(true)
    expect(sniffImageType(webp)).toBe('image/webp')
  })

  it('refuses HTML declared as PNG and a PNG declared as JPEG', () => {
    expect(bytesMatchType('image/png', html)).toBe(false)
    expect(bytesMatchType('image/jpeg', png)).toBe(false)
    expect(sniffImageType(html)).toBeNull()
  })

  it('accepts plain text but not markup or binary under a text type', () => {
    expect(bytesMatchType('text/plain', bytes('hello, world\n'))).toBe(true)
    expect(bytesMatchType('text/plain', bytes('\uFEFF  <svg onload=alert(1)>'))).toBe(false)
    expect(bytesMatchType('text/csv', bytes('a,b', [0], 'c'))).toBe(false)
  })

  it('never matches a type it has no rule for', () => {
    expect(bytesMatchType('image/svg+xml', bytes('<svg/>'))).toBe(false)
    expect(bytesMatchType('application/octet-stream', html)).toBe(true)
  })

  it('needs the whole signature', () => {
    expect(bytesMatchType('image/png', png.subarray(0, 4))).toBe(false)
  })
})
