import { deflateSync } from 'node:zlib'
import { readImageInfo, UpkitError } from '@upkit/core'
import { describe, expect, it } from 'vitest'
import {
  JPEG_1X1,
  JPEG_3X2,
  WEBP_3X2,
  WEBP_3X2_ALPHA,
  WEBP_3X2_LOSSLESS,
} from '../test-support/chromium-images'
import { PNG_SIGNATURE, pngChunk } from '../test-support/png'
import { verifyImage } from './verify-image'

// ---- encoders for the test's own images ----

function ihdr(width: number, height: number, depth: number, colorType: number, interlace = 0) {
  const data = Buffer.alloc(13)
  data.writeUInt32BE(width, 0)
  data.writeUInt32BE(height, 4)
  data.set([depth, colorType, 0, 0, interlace], 8)
  return pngChunk('IHDR', data)
}

/** A PNG whose filtered rows are `raw` (filter bytes included), compressed with zlib. */
function png(
  header: { width: number; height: number; depth: number; colorType: number; interlace?: number },
  raw: Uint8Array,
  extra: Buffer[] = [],
): Buffer {
  return Buffer.concat([
    PNG_SIGNATURE,
    ihdr(header.width, header.height, header.depth, header.colorType, header.interlace),
    ...extra,
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND'),
  ])
}

/** 3x2 RGBA, 8 bits: two rows of filter byte 0 + 12 bytes. */
const rgbaRaw = () => {
  const raw = Buffer.alloc(2 * 13, 0x7f)
  raw[0] = 0
  raw[13] = 1
  return raw
}
const PNG_3X2 = png({ width: 3, height: 2, depth: 8, colorType: 6 }, rgbaRaw())

/** A 1x1 GIF89a with a two-colour table: clear, index 0, end of information, as 3-bit LZW codes. */
function gif(): Buffer {
  return Buffer.from([
    ...Buffer.from('GIF89a', 'latin1'),
    1,
    0,
    1,
    0,
    0x80,
    0,
    0, // logical screen 1x1, global table of 2 colours
    0,
    0,
    0,
    255,
    255,
    255,
    0x21,
    0xf9,
    4,
    0,
    0,
    0,
    0,
    0, // graphic control extension
    0x2c,
    0,
    0,
    0,
    0,
    1,
    0,
    1,
    0,
    0, // image descriptor
    2,
    2,
    0x44,
    0x01,
    0, // LZW minimum code size 2, one sub-block of 2 bytes, terminator
    0x3b,
  ])
}

async function check(bytes: Uint8Array, budget?: { timeoutMs: number }) {
  const info = readImageInfo(bytes)
  if (!info) throw new Error('the header of a test image does not read')
  return verifyImage(bytes, info, 'logo', budget)
}

async function refusal(bytes: Uint8Array, infoFrom: Uint8Array = bytes) {
  const info = readImageInfo(infoFrom)
  if (!info) throw new Error('the header of a test image does not read')
  const error = await verifyImage(bytes, info, 'logo').then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(UpkitError)
  expect((error as UpkitError).code).toBe('IMAGE_CORRUPT')
  expect((error as UpkitError).message).toMatch(/^The logo is damaged or incomplete \(.+\)/)
  return (error as UpkitError).message
}

/** Every strict prefix of a valid image is refused: a cut-off upload never passes as an image. */
async function expectEveryPrefixRefused(bytes: Uint8Array, from: number) {
  for (let length = from; length < bytes.length; length++) {
    await refusal(bytes.subarray(0, length), bytes)
  }
}

describe('verifyImage: PNG', () => {
  it('accepts complete PNGs: RGBA, 16-bit grey, a 1-bit palette image, Adam7 interlaced', async () => {
    await check(PNG_3X2)
    await check(png({ width: 2, height: 2, depth: 16, colorType: 0 }, Buffer.alloc(2 * 5)))
    const palette = pngChunk('PLTE', Buffer.from([0, 0, 0, 255, 255, 255]))
    await check(png({ width: 9, height: 1, depth: 1, colorType: 3 }, Buffer.alloc(3), [palette]))
    // 3x2 Adam7 keeps passes 1, 4, 6 (one pixel each) and 7 (one row of three): 3 * (1 + 4) + (1 + 12) bytes.
    await check(png({ width: 3, height: 2, depth: 8, colorType: 6, interlace: 1 }, Buffer.alloc(28)))
    // Ancillary chunks anywhere before IEND are fine.
    await check(
      Buffer.concat([PNG_3X2.subarray(0, 33), pngChunk('tEXt', Buffer.from('a\0b')), PNG_3X2.subarray(33)]),
    )
  })

  it('refuses the 33-byte PNG (signature + IHDR) that passed on its header alone', async () => {
    expect(PNG_3X2.subarray(0, 33).length).toBe(33)
    expect(await refusal(PNG_3X2.subarray(0, 33), PNG_3X2)).toContain('IEND chunk is missing')
  })

  it('refuses every truncation of a PNG', async () => {
    await expectEveryPrefixRefused(PNG_3X2, 24)
  })

  it('refuses a damaged chunk (CRC), a missing or early IEND, and bytes after IEND', async () => {
    const flipped = Buffer.from(PNG_3X2)
    flipped[45] = (flipped[45] as number) ^ 0x01
    expect(await refusal(flipped)).toContain('checksum')
    const withoutEnd = PNG_3X2.subarray(0, PNG_3X2.length - 12)
    expect(await refusal(withoutEnd)).toContain('IEND chunk is missing')
    const early = Buffer.concat([PNG_3X2.subarray(0, 33), pngChunk('IEND'), PNG_3X2.subarray(33)])
    expect(await refusal(early)).toContain('after the IEND')
    expect(await refusal(Buffer.concat([PNG_3X2, Buffer.from('junk')]))).toContain('after the IEND')
  })

  it('refuses image data that inflates to fewer or more bytes than the header promises, or not at all', async () => {
    const header = { width: 3, height: 2, depth: 8, colorType: 6 }
    expect(await refusal(png(header, rgbaRaw().subarray(0, 13)))).toContain('shorter')
    expect(await refusal(png(header, Buffer.concat([rgbaRaw(), Buffer.alloc(1)])))).toContain('longer')
    const broken = Buffer.concat([
      PNG_SIGNATURE,
      ihdr(3, 2, 8, 6),
      pngChunk('IDAT', deflateSync(rgbaRaw()).subarray(0, 8)),
      pngChunk('IEND'),
    ])
    expect(await refusal(broken)).toContain('compressed image data')
  })

  it('refuses unknown filters, a palette image without PLTE, bad IHDR fields and unknown critical chunks', async () => {
    const raw = rgbaRaw()
    raw[13] = 5
    expect(await refusal(png({ width: 3, height: 2, depth: 8, colorType: 6 }, raw))).toContain('filter')
    expect(await refusal(png({ width: 1, height: 1, depth: 8, colorType: 3 }, Buffer.alloc(2)))).toContain(
      'no palette',
    )
    expect(await refusal(png({ width: 3, height: 2, depth: 4, colorType: 6 }, rgbaRaw()))).toContain(
      'bit depth',
    )
    const unknown = Buffer.concat([PNG_3X2.subarray(0, 33), pngChunk('ABCD'), PNG_3X2.subarray(33)])
    expect(await refusal(unknown)).toContain('ABCD')
  })

  it('checks a 4096x4096 image and stops one that takes longer than the budget', async () => {
    const big = png(
      { width: 4096, height: 4096, depth: 8, colorType: 6 },
      Buffer.alloc(4096 * (1 + 4 * 4096)),
    )
    expect(big.length).toBeLessThan(200_000)
    await check(big)
    const error = await check(big, { timeoutMs: -1 }).catch((e: unknown) => e)
    expect((error as UpkitError).code).toBe('IMAGE_CORRUPT')
    expect((error as UpkitError).message).toContain('too long')
  })
})

describe('verifyImage: JPEG, WebP, GIF', () => {
  it('accepts what Chromium encodes (the browser-side logo path) and a built GIF', async () => {
    for (const image of [JPEG_3X2, JPEG_1X1, WEBP_3X2, WEBP_3X2_ALPHA, WEBP_3X2_LOSSLESS, gif()]) {
      await check(image)
    }
  })

  it('refuses every truncation of a JPEG, a WebP and a GIF', async () => {
    await expectEveryPrefixRefused(JPEG_3X2, 2)
    await expectEveryPrefixRefused(WEBP_3X2_ALPHA, 30)
    await expectEveryPrefixRefused(WEBP_3X2_LOSSLESS, 30)
    await expectEveryPrefixRefused(gif(), 10)
  })

  it('refuses the header-only JPEG (frame header, no scan data, no EOI) that passed before', async () => {
    const headerOnly = Buffer.from(
      '/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=',
      'base64',
    )
    await refusal(headerOnly)
  })

  it('refuses a JPEG whose scan is gone though it still ends with EOI', async () => {
    const sos = JPEG_3X2.indexOf(Buffer.from([0xff, 0xda]))
    const length = JPEG_3X2.readUInt16BE(sos + 2)
    const noScanData = Buffer.concat([JPEG_3X2.subarray(0, sos + 2 + length), Buffer.from([0xff, 0xd9])])
    expect(await refusal(noScanData)).toContain('no data')
  })

  it('refuses a WebP whose RIFF size was rewritten to hide a cut, or whose VP8 frame is cut inside', async () => {
    const cut = Buffer.from(WEBP_3X2.subarray(0, WEBP_3X2.length - 20))
    cut.writeUInt32LE(cut.length - 8, 4)
    expect(await refusal(cut, WEBP_3X2)).toContain('cut off')
    const frame = Buffer.from(WEBP_3X2)
    const vp8 = frame.indexOf('VP8 ', 12, 'latin1') + 8
    frame.writeUIntLE(frame.readUIntLE(vp8, 3) | (0x7ffff << 5), vp8, 3)
    expect(await refusal(frame)).toContain('VP8 frame is cut off')
  })

  it('refuses a GIF with an unknown block or an image without data', async () => {
    const unknown = gif()
    unknown[27] = 0x99
    expect(await refusal(unknown)).toContain('unknown type')
    const empty = Buffer.concat([gif().subarray(0, 38), Buffer.from([0, 0x3b])])
    expect(await refusal(empty)).toContain('no data')
  })
})
