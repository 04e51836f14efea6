import { createInflate } from 'node:zlib'
import { type ImageInfo, UpkitError } from '@upkit/core'

/**
 * What reading the whole image may cost. The decoded PNG is streamed and counted, never kept, so memory stays at
 * zlib's window and one output chunk whatever the pixel count; time is bounded by `timeoutMs`.
 */
export interface ImageCheckBudget {
  readonly timeoutMs: number
}

const DEFAULT_BUDGET: ImageCheckBudget = { timeoutMs: 2_000 }

/** Why the bytes are not a complete image, for the message; thrown as `IMAGE_CORRUPT` by `verifyImage`. */
class Corrupt extends Error {}

/**
 * Reads the whole image, not only its header, so a truncated or damaged file is refused before it is stored and
 * served: PNG chunks with their CRCs and the zlib stream inflated to exactly the size the header promises; JPEG,
 * WebP and GIF through their complete block structure. `info` is what `assertInlineImageAllowed` read from the
 * header (type and dimensions already within the policy).
 */
export async function verifyImage(
  bytes: Uint8Array,
  info: ImageInfo,
  label: string,
  budget: ImageCheckBudget = DEFAULT_BUDGET,
): Promise<void> {
  try {
    switch (info.type) {
      case 'image/png':
        await verifyPng(bytes, info, Date.now() + budget.timeoutMs)
        return
      case 'image/jpeg':
        verifyJpeg(bytes)
        return
      case 'image/webp':
        verifyWebp(bytes)
        return
      case 'image/gif':
        verifyGif(bytes)
        return
    }
  } catch (error) {
    if (!(error instanceof Corrupt)) throw error
    throw new UpkitError(
      'IMAGE_CORRUPT',
      `The ${label} is damaged or incomplete (${error.message}); save it again and choose the new file.`,
    )
  }
}

const u16be = (b: Uint8Array, i: number) => ((b[i] as number) << 8) | (b[i + 1] as number)
const u16le = (b: Uint8Array, i: number) => (b[i] as number) | ((b[i + 1] as number) << 8)
const u32be = (b: Uint8Array, i: number) => u16be(b, i) * 0x10000 + u16be(b, i + 2)
const u32le = (b: Uint8Array, i: number) => u16le(b, i) + u16le(b, i + 2) * 0x10000
const ascii = (b: Uint8Array, start: number, end: number) => String.fromCharCode(...b.subarray(start, end))

function need(condition: boolean, reason: string): asserts condition {
  if (!condition) throw new Corrupt(reason)
}

// node:zlib's crc32 is missing from Node 22.0/22.1, which the packages' engines allow.
const CRC_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

function crc32(data: Uint8Array): number {
  let crc = 0xffffffff
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

// ---- PNG ------------------------------------------------------------------------------------------------------

const CHANNELS: Record<number, { channels: number; depths: readonly number[] }> = {
  0: { channels: 1, depths: [1, 2, 4, 8, 16] },
  2: { channels: 3, depths: [8, 16] },
  3: { channels: 1, depths: [1, 2, 4, 8] },
  4: { channels: 2, depths: [8, 16] },
  6: { channels: 4, depths: [8, 16] },
}

/** Adam7: the origin and step of each of the seven passes, as [x0, y0, dx, dy]. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const

/** Rows of the filtered image data, pass by pass: each row is one filter-type byte and its packed pixels. */
function pngRows(width: number, height: number, bitsPerPixel: number, interlaced: boolean) {
  const passes: { rows: number; rowBytes: number }[] = []
  const rowBytes = (pixels: number) => 1 + Math.ceil((pixels * bitsPerPixel) / 8)
  if (!interlaced) return [{ rows: height, rowBytes: rowBytes(width) }]
  for (const [x0, y0, dx, dy] of ADAM7) {
    const w = Math.ceil((width - x0) / dx)
    const h = Math.ceil((height - y0) / dy)
    if (w > 0 && h > 0) passes.push({ rows: h, rowBytes: rowBytes(w) })
  }
  return passes
}

async function verifyPng(b: Uint8Array, info: ImageInfo, deadline: number): Promise<void> {
  let offset = 8
  let header: { bitsPerPixel: number; colorType: number; interlaced: boolean } | null = null
  let palette = false
  let idatState: 'before' | 'in' | 'after' = 'before'
  const idat: Uint8Array[] = []
  let ended = false
  while (offset < b.length) {
    need(!ended, 'there are bytes after the IEND chunk')
    need(offset + 12 <= b.length, 'the file ends inside a chunk')
    const length = u32be(b, offset)
    const type = ascii(b, offset + 4, offset + 8)
    need(length <= 0x7fffffff && offset + 12 + length <= b.length, `the ${type} chunk is cut off`)
    const data = b.subarray(offset + 8, offset + 8 + length)
    need(
      crc32(b.subarray(offset + 4, offset + 8 + length)) === u32be(b, offset + 8 + length),
      `the ${type} chunk fails its checksum`,
    )
    need(/^[A-Za-z]{4}$/.test(type), 'a chunk has an invalid name')
    need((header !== null) === (type !== 'IHDR'), 'IHDR must be the first chunk and appear once')
    if (type === 'IHDR') {
      need(length === 13, 'the IHDR chunk has the wrong length')
      const depth = data[8] as number
      const colorType = data[9] as number
      const format = CHANNELS[colorType]
      if (!format?.depths.includes(depth)) throw new Corrupt('the bit depth and color type do not combine')
      need(
        data[10] === 0 && data[11] === 0 && (data[12] as number) <= 1,
        'the IHDR chunk has unknown methods',
      )
      need(u32be(data, 0) === info.width && u32be(data, 4) === info.height, 'the header was read differently')
      header = { bitsPerPixel: format.channels * depth, colorType, interlaced: data[12] === 1 }
    } else if (type === 'PLTE') {
      need(idatState === 'before', 'PLTE comes after the image data')
      need(length > 0 && length % 3 === 0 && length <= 768, 'the palette has an invalid length')
      palette = true
    } else if (type === 'IDAT') {
      need(idatState !== 'after', 'the image data is split by other chunks')
      idatState = 'in'
      idat.push(data)
    } else if (type === 'IEND') {
      need(length === 0, 'the IEND chunk is not empty')
      ended = true
    } else {
      if (idatState === 'in') idatState = 'after'
      // Unknown critical chunks (uppercase first letter) change how pixels decode; no decoder may skip them.
      need(/^[a-z]/.test(type), `the critical chunk ${type} is unknown`)
    }
    offset += 12 + length
  }
  need(ended, 'the IEND chunk is missing: the file is cut off')
  need(header !== null && idat.length > 0, 'there is no image data')
  need(header.colorType !== 3 || palette, 'an indexed image has no palette')
  await inflatePng(
    Buffer.concat(idat),
    pngRows(info.width, info.height, header.bitsPerPixel, header.interlaced),
    deadline,
  )
}

/**
 * Streams the image data through inflate and counts it against the exact size the header implies, checking each
 * row's filter byte (0–4) on the way. The output is never kept: a pixel bomb costs time (bounded by the deadline
 * and by the policy's maxDimension), not memory.
 */
function inflatePng(
  data: Buffer,
  passes: { rows: number; rowBytes: number }[],
  deadline: number,
): Promise<void> {
  const expected = passes.reduce((sum, pass) => sum + pass.rows * pass.rowBytes, 0)
  return new Promise((resolve, reject) => {
    const inflate = createInflate({ chunkSize: 64 * 1024 })
    let total = 0
    let pass = 0
    let rowsLeft = passes[0]?.rows ?? 0
    let nextFilter = 0
    let settled = false
    const fail = (reason: string) => {
      if (settled) return
      settled = true
      inflate.destroy()
      reject(new Corrupt(reason))
    }
    inflate.on('data', (chunk: Buffer) => {
      if (settled) return
      if (Date.now() > deadline) return fail('it takes too long to decode')
      const end = total + chunk.length
      if (end > expected) return fail('the image data is longer than its size')
      while (nextFilter < end) {
        if ((chunk[nextFilter - total] as number) > 4) return fail('a row has an unknown filter')
        nextFilter += (passes[pass] as { rowBytes: number }).rowBytes
        if (--rowsLeft === 0) rowsLeft = passes[++pass]?.rows ?? 0
        if (pass === passes.length) nextFilter = Number.POSITIVE_INFINITY
      }
      total = end
    })
    inflate.on('error', () => fail('the compressed image data is damaged or cut off'))
    inflate.on('end', () => {
      if (settled) return
      if (total !== expected) return fail('the image data is shorter than its size')
      settled = true
      resolve()
    })
    inflate.end(data)
  })
}

// ---- JPEG -----------------------------------------------------------------------------------------------------

/** SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC). */
const isFrameMarker = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc

/**
 * SOI, then length-prefixed segments: a frame header, tables, and each scan header followed by entropy-coded data
 * (where 0xFF is only ever followed by 0x00 or a restart marker), up to EOI. Bytes after EOI are allowed: phones
 * append preview images there (MPF) and every decoder stops at EOI.
 */
function verifyJpeg(b: Uint8Array): void {
  need(b[0] === 0xff && b[1] === 0xd8, 'the start marker is missing')
  let i = 2
  let frame = false
  let quantization = false
  let scans = 0
  for (;;) {
    need(i + 1 < b.length, 'the end marker is missing: the file is cut off')
    need(b[i] === 0xff, 'a segment does not start with a marker')
    let marker = b[i + 1] as number
    // Any number of 0xFF fill bytes may precede a marker.
    while (marker === 0xff && i + 2 < b.length) marker = b[++i + 1] as number
    i += 2
    if (marker === 0xd9) break
    need(marker !== 0xd8 && marker !== 0x00 && marker !== 0xff, 'a segment has an invalid marker')
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue
    need(i + 2 <= b.length, 'the file ends inside a segment')
    const length = u16be(b, i)
    need(length >= 2 && i + length <= b.length, 'a segment is cut off')
    if (isFrameMarker(marker)) {
      need(!frame, 'there are two frame headers')
      const components = b[i + 7] as number
      need(length === 8 + 3 * components && components > 0, 'the frame header has the wrong length')
      frame = true
    } else if (marker === 0xdb) {
      quantization = true
    } else if (marker === 0xda) {
      need(frame && quantization, 'a scan comes before the frame header or the quantization tables')
      const components = b[i + 2] as number
      need(length === 6 + 2 * components && components > 0, 'a scan header has the wrong length')
      i += length
      const start = i
      // Entropy-coded data runs to the next marker that is not a stuffed 0x00 or a restart marker.
      while (i + 1 < b.length) {
        if (b[i] === 0xff) {
          const next = b[i + 1] as number
          if (next !== 0x00 && !(next >= 0xd0 && next <= 0xd7)) break
          i += 2
        } else i++
      }
      need(i + 1 < b.length, 'the scan data is cut off before the end marker')
      need(i > start, 'a scan has no data')
      scans++
      continue
    }
    i += length
  }
  need(frame && scans > 0, 'there is no image data')
}

// ---- WebP -----------------------------------------------------------------------------------------------------

/** RIFF chunks from `start` to `end`: each a FourCC, a little-endian size and the data, padded to an even length. */
function riffChunks(b: Uint8Array, start: number, end: number): { type: string; data: Uint8Array }[] {
  const chunks: { type: string; data: Uint8Array }[] = []
  let i = start
  while (i < end) {
    need(i + 8 <= end, 'the file ends inside a chunk header')
    const type = ascii(b, i, i + 4)
    const size = u32le(b, i + 4)
    need(i + 8 + size <= end, `the ${type.trim()} chunk is cut off`)
    chunks.push({ type, data: b.subarray(i + 8, i + 8 + size) })
    i += 8 + size + (size % 2)
  }
  need(i === end, 'the last chunk is missing its padding byte')
  return chunks
}

function verifyVp8(data: Uint8Array): void {
  need(data.length >= 10, 'the VP8 frame is cut off')
  const tag = (data[0] as number) | ((data[1] as number) << 8) | ((data[2] as number) << 16)
  need((tag & 1) === 0, 'the VP8 frame is not a key frame')
  need(((tag >> 1) & 7) <= 3, 'the VP8 frame has an unknown version')
  need(data[3] === 0x9d && data[4] === 0x01 && data[5] === 0x2a, 'the VP8 start code is missing')
  const firstPartition = tag >>> 5
  need(firstPartition > 0 && 10 + firstPartition <= data.length, 'the VP8 frame is cut off')
  need((u16le(data, 6) & 0x3fff) > 0 && (u16le(data, 8) & 0x3fff) > 0, 'the VP8 frame has no size')
}

function verifyVp8l(data: Uint8Array): void {
  need(data.length > 5, 'the lossless frame is cut off')
  need(data[0] === 0x2f, 'the lossless signature is missing')
  need((data[4] as number) >> 5 === 0, 'the lossless frame has an unknown version')
}

function verifyWebp(b: Uint8Array): void {
  need(
    b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP',
    'the RIFF header is missing',
  )
  need(u32le(b, 4) + 8 === b.length, 'the file is not the size its RIFF header says')
  const chunks = riffChunks(b, 12, b.length)
  const first = chunks[0]
  need(first !== undefined, 'there is no image data')
  if (first.type === 'VP8 ' || first.type === 'VP8L') {
    verifyFrameChunks([first])
    return
  }
  need(first.type === 'VP8X' && first.data.length === 10, 'the first chunk is not VP8, VP8L or VP8X')
  const animated = ((first.data[0] as number) & 0x02) !== 0
  if (animated) {
    const frames = chunks.filter((chunk) => chunk.type === 'ANMF')
    need(chunks.some((chunk) => chunk.type === 'ANIM') && frames.length > 0, 'the animation has no frames')
    for (const frame of frames) {
      need(frame.data.length > 16, 'an animation frame is cut off')
      verifyFrameChunks(riffChunks(frame.data, 16, frame.data.length))
    }
    return
  }
  verifyFrameChunks(chunks.slice(1))
}

/** An optional ALPH, then exactly one VP8 or VP8L bitstream; other (metadata) chunks may sit around them. */
function verifyFrameChunks(chunks: { type: string; data: Uint8Array }[]): void {
  const images = chunks.filter((chunk) => chunk.type === 'VP8 ' || chunk.type === 'VP8L')
  need(images.length === 1, 'the image data is missing')
  const image = images[0] as { type: string; data: Uint8Array }
  if (image.type === 'VP8 ') verifyVp8(image.data)
  else verifyVp8l(image.data)
  const alpha = chunks.find((chunk) => chunk.type === 'ALPH')
  if (alpha) need(alpha.data.length > 1, 'the alpha channel is cut off')
}

// ---- GIF ------------------------------------------------------------------------------------------------------

/** Data sub-blocks (a size byte, then that many bytes) up to the empty one; returns the offset after it. */
function subBlocks(b: Uint8Array, start: number): { end: number; bytes: number } {
  let i = start
  let bytes = 0
  for (;;) {
    need(i < b.length, 'the file ends inside a block')
    const size = b[i] as number
    i += 1 + size
    bytes += size
    if (size === 0) return { end: i, bytes }
  }
}

function verifyGif(b: Uint8Array): void {
  need(b.length >= 13 && /^GIF8[79]a$/.test(ascii(b, 0, 6)), 'the GIF header is missing')
  const flags = b[10] as number
  let i = 13 + (flags & 0x80 ? 3 * 2 ** ((flags & 7) + 1) : 0)
  let images = 0
  for (;;) {
    need(i < b.length, 'the trailer is missing: the file is cut off')
    const introducer = b[i] as number
    if (introducer === 0x3b) break
    if (introducer === 0x21) {
      need(i + 2 <= b.length, 'the file ends inside an extension')
      i = subBlocks(b, i + 2).end
    } else if (introducer === 0x2c) {
      need(i + 10 <= b.length, 'the file ends inside an image descriptor')
      const local = b[i + 9] as number
      i += 10 + (local & 0x80 ? 3 * 2 ** ((local & 7) + 1) : 0)
      need(i < b.length, 'the file ends before the image data')
      const minCodeSize = b[i] as number
      need(minCodeSize >= 2 && minCodeSize <= 8, 'the image data has an invalid code size')
      const data = subBlocks(b, i + 1)
      need(data.bytes > 0, 'an image has no data')
      i = data.end
      images++
    } else {
      throw new Corrupt('a block has an unknown type')
    }
  }
  need(images > 0, 'there is no image')
}
