/** How many leading bytes `bytesMatchType` needs: the server reads exactly this much with a ranged GET. */
export const SNIFF_BYTES = 64

type Matcher = (head: Uint8Array) => boolean

const startsWith =
  (signature: readonly number[], offset = 0): Matcher =>
  (head) =>
    head.length >= offset + signature.length && signature.every((byte, i) => head[offset + i] === byte)

const ascii = (text: string): number[] => Array.from(text, (char) => char.charCodeAt(0))

const isPng = startsWith([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
const isJpeg = startsWith([0xff, 0xd8, 0xff])
const isGif: Matcher = (head) => startsWith(ascii('GIF87a'))(head) || startsWith(ascii('GIF89a'))(head)
const isWebp: Matcher = (head) => startsWith(ascii('RIFF'))(head) && startsWith(ascii('WEBP'), 8)(head)
const isPdf = startsWith(ascii('%PDF-'))
const isZip: Matcher = (head) =>
  startsWith([0x50, 0x4b, 0x03, 0x04])(head) || startsWith([0x50, 0x4b, 0x05, 0x06])(head)
const isMp4 = startsWith(ascii('ftyp'), 4)

const MARKUP_START = /^\s*<(?:!doctype|html|head|body|script|svg|\?xml|iframe|object|embed)/i

/** Text is accepted when it has no NUL byte and does not open like a markup document a browser could run. */
const isPlainText: Matcher = (head) => {
  if (head.includes(0)) return false
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head).replace(/^\uFEFF/, '')
  return !MARKUP_START.test(text)
}

const MATCHERS: Readonly<Record<string, Matcher>> = {
  'image/png': isPng,
  'image/jpeg': isJpeg,
  'image/gif': isGif,
  'image/webp': isWebp,
  'application/pdf': isPdf,
  'application/zip': isZip,
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': isZip,
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': isZip,
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': isZip,
  'video/mp4': isMp4,
  'text/plain': isPlainText,
  'text/csv': isPlainText,
  // Opaque bytes: only ever served as an `application/octet-stream` attachment (the signed GET overrides the
  // stored type and disposition; a bucket cannot be made to send nosniff), so any content is acceptable.
  'application/octet-stream': () => true,
}

/**
 * Whether the first bytes of a file are plausible for its declared type. Unknown types never match, so a new
 * type in a policy must get a matcher here before it can be confirmed.
 */
export function bytesMatchType(mimeType: string, head: Uint8Array): boolean {
  const matcher = MATCHERS[mimeType]
  return matcher ? matcher(head) : false
}

/** The image type the bytes are, if they are one of the image types upkit accepts. */
export function sniffImageType(
  head: Uint8Array,
): 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp' | null {
  if (isPng(head)) return 'image/png'
  if (isJpeg(head)) return 'image/jpeg'
  if (isGif(head)) return 'image/gif'
  if (isWebp(head)) return 'image/webp'
  return null
}
