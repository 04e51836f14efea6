/**
 * The few S3 XML documents a browser uploader reads and writes. Regular expressions rather than DOMParser:
 * the documents are flat, the parsers stay testable outside a browser, and nothing here is rendered.
 */

export interface UploadedPart {
  readonly partNumber: number
  /** With its quotes, as S3 sends it and expects it back. */
  readonly etag: string
}

export interface ListedPart extends UploadedPart {
  readonly size: number
}

const ENTITIES: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'" }

export function decodeXmlText(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|quot|amp|lt|gt|apos);/gi, (match, entity: string) => {
    if (entity[0] === '#') {
      const code =
        entity[1] === 'x' || entity[1] === 'X'
          ? Number.parseInt(entity.slice(2), 16)
          : Number(entity.slice(1))
      return Number.isFinite(code) ? String.fromCodePoint(code) : match
    }
    return ENTITIES[entity.toLowerCase()] ?? match
  })
}

export function escapeXmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

function rawElement(xml: string, name: string): string | null {
  const match = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`).exec(xml)
  return match ? (match[1] ?? '').trim() : null
}

function element(xml: string, name: string): string | null {
  const raw = rawElement(xml, name)
  return raw === null ? null : decodeXmlText(raw)
}

/**
 * Parts from a ListParts answer, sorted by part number. One page is enough: ListParts pages at 1,000 parts and
 * upkit's plans stay far below that (5 GiB / 64 MiB = 80 parts).
 */
export function parseListParts(xml: string): ListedPart[] {
  const parts: ListedPart[] = []
  for (const match of xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
    const body = match[1] ?? ''
    const partNumber = Number(element(body, 'PartNumber'))
    const etag = element(body, 'ETag')
    const size = Number(element(body, 'Size'))
    if (Number.isInteger(partNumber) && partNumber > 0 && etag && Number.isFinite(size))
      parts.push({ partNumber, etag, size })
  }
  return parts.sort((a, b) => a.partNumber - b.partNumber)
}

export function buildCompleteMultipartXml(parts: readonly UploadedPart[]): string {
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber)
  const body = sorted
    .map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${escapeXmlText(p.etag)}</ETag></Part>`)
    .join('')
  return `<CompleteMultipartUpload>${body}</CompleteMultipartUpload>`
}

export interface S3ErrorBody {
  readonly code: string
  readonly message: string
}

/** S3's `<Error><Code/><Message/></Error>`, or null when the body is something else (or empty, as in HEAD). */
export function parseS3Error(xml: string): S3ErrorBody | null {
  const errorBody = rawElement(xml, 'Error')
  if (errorBody === null) return null
  return { code: element(errorBody, 'Code') ?? '', message: element(errorBody, 'Message') ?? '' }
}
