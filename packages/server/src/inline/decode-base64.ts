import { base64LengthOf, formatBytes, UpkitError } from '@upkit/core'

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/**
 * Strict base64 of at most `maxBytes` decoded bytes, for images sent in a mutation (inline images, thumbnails).
 * Node's decoder silently skips garbage, which would let a malformed body through as bytes; an input whose length
 * alone proves it too large is refused before decoding. `label` names the image in messages ("logo").
 */
export function decodeBase64(input: string, maxBytes: number, label: string): Uint8Array<ArrayBuffer> {
  if (input.length > base64LengthOf(maxBytes) + 4) {
    const decodedBytes = Math.floor((input.length * 3) / 4)
    throw new UpkitError(
      'FILE_TOO_LARGE',
      `The ${label} is about ${formatBytes(decodedBytes)}; it can be at most ${formatBytes(maxBytes)}.`,
    )
  }
  if (input.length % 4 !== 0 || !BASE64.test(input)) {
    throw new UpkitError('INVALID_INPUT', `The ${label} must be sent as base64.`)
  }
  const decoded = Buffer.from(input, 'base64')
  return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.length) as Uint8Array<ArrayBuffer>
}
