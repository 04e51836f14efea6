import { malformedXml } from './errors'

export const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/'

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;',
  )
}

/** `<name>escaped text</name>`; undefined renders nothing so optional fields can be passed straight in. */
export function el(name: string, value: string | number | boolean | undefined): string {
  if (value === undefined) return ''
  return `<${name}>${escapeXml(String(value))}</${name}>`
}

export function xmlDocument(root: string, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${XMLNS}">${body}</${root}>`
}

export interface XmlElement {
  name: string
  children: XmlElement[]
  text: string
}

/** Children of `parent` named `name`, ignoring namespace prefixes. */
export function childrenNamed(parent: XmlElement, name: string): XmlElement[] {
  return parent.children.filter((c) => c.name === name)
}

export function childText(parent: XmlElement, name: string): string | undefined {
  return parent.children.find((c) => c.name === name)?.text
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, entity: string) => {
    if (entity[0] === '#') {
      const code =
        entity[1] === 'x' ? Number.parseInt(entity.slice(2), 16) : Number.parseInt(entity.slice(1), 10)
      if (!Number.isFinite(code) || code > 0x10ffff) throw malformedXml()
      return String.fromCodePoint(code)
    }
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[entity] ?? ''
  })
}

/**
 * A deliberately small XML reader for the three request bodies S3 clients send us (Delete,
 * CompleteMultipartUpload, CORSConfiguration): elements, text, entities, CDATA; no DTDs.
 */
export function parseXml(source: string): XmlElement {
  let pos = 0
  const root: XmlElement = { name: '#document', children: [], text: '' }
  const stack: XmlElement[] = [root]
  const tagPattern = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y
  while (pos < source.length) {
    const lt = source.indexOf('<', pos)
    const top = stack[stack.length - 1] as XmlElement
    if (lt === -1) {
      if (source.slice(pos).trim() !== '') throw malformedXml()
      break
    }
    if (lt > pos) top.text += decodeEntities(source.slice(pos, lt))
    if (source.startsWith('<?', lt)) {
      const end = source.indexOf('?>', lt)
      if (end === -1) throw malformedXml()
      pos = end + 2
      continue
    }
    if (source.startsWith('<!--', lt)) {
      const end = source.indexOf('-->', lt)
      if (end === -1) throw malformedXml()
      pos = end + 3
      continue
    }
    if (source.startsWith('<![CDATA[', lt)) {
      const end = source.indexOf(']]>', lt)
      if (end === -1) throw malformedXml()
      top.text += source.slice(lt + 9, end)
      pos = end + 3
      continue
    }
    if (source.startsWith('<!', lt)) throw malformedXml()
    tagPattern.lastIndex = lt
    const match = tagPattern.exec(source)
    if (!match) throw malformedXml()
    const [whole, closing, qualifiedName, , selfClosing] = match
    const name = (qualifiedName as string).replace(/^.*:/, '')
    pos = lt + whole.length
    if (closing) {
      if (selfClosing || stack.length < 2 || top.name !== name) throw malformedXml()
      stack.pop()
      continue
    }
    const element: XmlElement = { name, children: [], text: '' }
    top.children.push(element)
    if (!selfClosing) stack.push(element)
  }
  if (stack.length !== 1 || root.children.length !== 1) throw malformedXml()
  return root.children[0] as XmlElement
}
