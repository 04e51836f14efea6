import { cleanFileName } from '@upkit/core'

// Slashes would make some clients treat the name as a path.
const UNSAFE = /[/\\]/g

/**
 * `<type>; filename="<ascii fallback>"; filename*=UTF-8''<RFC 5987>` for a download's
 * Content-Disposition (e.g. `presignGet({ responseContentDisposition })`). Every browser in use reads
 * `filename*`; the quoted ASCII fallback is for old clients and tools, with accents stripped
 * (`é` → `e`) and anything else non-ASCII, quotes and backslashes replaced by `_`, because escaping
 * inside quoted-strings is interpreted inconsistently. The header is plain ASCII, which is all an
 * HTTP header (and S3's `response-content-disposition`) reliably carries.
 */
export function contentDisposition(type: 'attachment' | 'inline', fileName: string): string {
  // The same cleaning as stored names get, again here: rows stored before it, and names from other sources
  // (`presignGet` callers), must not carry a bidi override or a line break into the header either.
  const cleaned = cleanFileName(fileName).replace(UNSAFE, '_') || 'download'
  const fallback = cleaned
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]|["\\]/g, '_')
  return `${type}; filename="${fallback}"; filename*=UTF-8''${encodeRfc5987(cleaned)}`
}

/** `contentDisposition('attachment', fileName)`: the browser saves the file instead of rendering it. */
export function contentDispositionAttachment(fileName: string): string {
  return contentDisposition('attachment', fileName)
}

/** encodeURIComponent leaves `'()*` alone, but RFC 5987's attr-char does not allow them. */
function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(
    /['()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}
