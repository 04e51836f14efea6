import { bytesMatchType, sniffImageType } from '@upkit/core'

const BY_EXTENSION: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  pdf: 'application/pdf',
  zip: 'application/zip',
  txt: 'text/plain',
  csv: 'text/csv',
  mp4: 'video/mp4',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
}

export const OCTET_STREAM = 'application/octet-stream'

/**
 * The type recorded for a legacy file. Magic bytes win for images (a `.jpg` that is a PNG is a PNG); other
 * types come from the extension but only when the bytes agree (`bytesMatchType`), so a renamed HTML file is
 * never recorded as text/plain. Everything else is opaque bytes, which upkit only serves as a download.
 */
export function detectMimeType(fileName: string, head: Uint8Array): string {
  const image = sniffImageType(head)
  if (image !== null) return image
  const dot = fileName.lastIndexOf('.')
  const byExtension = dot === -1 ? undefined : BY_EXTENSION[fileName.slice(dot + 1).toLowerCase()]
  if (byExtension === undefined || byExtension.startsWith('image/')) return OCTET_STREAM
  // An empty file matches nothing useful; recording it as text would be a guess.
  if (head.length === 0) return OCTET_STREAM
  return bytesMatchType(byExtension, head) ? byExtension : OCTET_STREAM
}
