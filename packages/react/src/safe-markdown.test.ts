import { isValidElement, type ReactElement, type ReactNode } from 'react'
import { describe, expect, it } from 'vitest'
import { isOwnFileUrl, parseSafeMarkdown, renderSafeMarkdown, safeLinkHref } from './safe-markdown'

const FILE = '/files/0b6f4a4e-9a5e-4a8e-9a43-3c0c7a1b2d3e'

interface Found {
  readonly type: string
  readonly props: Record<string, unknown>
}

/** Every element in a rendered tree, depth first, plus the concatenated text. */
function walk(nodes: ReactNode): { elements: Found[]; text: string } {
  const elements: Found[] = []
  let text = ''
  const visit = (node: ReactNode): void => {
    if (Array.isArray(node)) {
      for (const child of node) visit(child)
    } else if (typeof node === 'string' || typeof node === 'number') {
      text += String(node)
    } else if (isValidElement(node)) {
      const element = node as ReactElement<Record<string, unknown>>
      elements.push({ type: String(element.type), props: element.props })
      visit(element.props.children as ReactNode)
    }
  }
  visit(nodes)
  return { elements, text }
}

const types = (source: string) => walk(renderSafeMarkdown(source)).elements.map((e) => e.type)

describe('renderSafeMarkdown', () => {
  it('renders paragraphs, line breaks, bold, italic, code and links', () => {
    const { elements, text } = walk(
      renderSafeMarkdown(
        'Hello **big** and *small* `x<y`\nnext line\n\nSee [docs](https://example.com/a?b=1)',
      ),
    )
    expect(elements.map((e) => e.type)).toEqual(['p', 'strong', 'em', 'code', 'br', 'p', 'a'])
    expect(text).toBe('Hello big and small x<ynext lineSee docs')
    const link = elements.find((e) => e.type === 'a')
    expect(link?.props).toMatchObject({
      href: 'https://example.com/a?b=1',
      rel: 'noopener noreferrer nofollow',
      target: '_blank',
    })
  })

  it('renders an image only for the app’s own /files/<uuid> URL', () => {
    const { elements } = walk(renderSafeMarkdown(`Look: ![shot.png](${FILE})`))
    const image = elements.find((e) => e.type === 'img')
    expect(image?.props).toMatchObject({ src: FILE, alt: 'shot.png' })
  })

  it('keeps raw HTML as text, whatever it is', () => {
    for (const hostile of [
      '<script>alert(1)</script>',
      '<img src=x onerror=alert(1)>',
      '<iframe src="https://evil"></iframe>',
      '<a href="javascript:alert(1)">x</a>',
    ]) {
      const { elements, text } = walk(renderSafeMarkdown(hostile))
      expect(elements.map((e) => e.type)).toEqual(['p'])
      expect(text).toBe(hostile)
    }
  })

  it('refuses links that are not http or https', () => {
    for (const url of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      'data:text/html;base64,PHNjcmlwdD4=',
      'vbscript:x',
      '//evil.example/x',
      '/relative',
    ]) {
      const source = `[click](${url})`
      const { elements, text } = walk(renderSafeMarkdown(source))
      expect(elements.map((e) => e.type)).toEqual(['p'])
      expect(text).toBe(source)
    }
  })

  it('refuses images from anywhere else, shown as their text', () => {
    for (const url of [
      'https://evil/x.png',
      '//evil/x.png',
      `${FILE}?x=1`,
      '/files/../logos/x',
      'javascript:alert(1)',
      `http://localhost${FILE}`,
      '',
    ]) {
      const source = `![x](${url})`
      const { elements, text } = walk(renderSafeMarkdown(source))
      expect(elements.map((e) => e.type)).toEqual(['p'])
      expect(text).toBe(source)
    }
  })

  it('does not let an attribute ride along in a URL', () => {
    expect(types(`![x](${FILE}" onerror="alert(1))`)).toEqual(['p'])
    expect(types('[x](https://ok.example" onclick="alert(1))')).toEqual(['p'])
  })

  it('survives pathological emphasis without deep recursion', () => {
    const source = '*'.repeat(5000) + 'a'.repeat(10) + '*'.repeat(5000)
    const { text } = walk(renderSafeMarkdown(source))
    expect(text.length).toBeGreaterThan(0)
    expect(types('** not bold **')).toEqual(['p'])
  })

  it('honours backslash escapes', () => {
    expect(walk(renderSafeMarkdown('\\*not italic\\*')).text).toBe('*not italic*')
  })
})

describe('parseSafeMarkdown', () => {
  it('drops blank paragraphs and normalises CRLF', () => {
    expect(parseSafeMarkdown('a\r\n\r\n\r\n  \r\n\r\nb')).toEqual([
      { type: 'paragraph', children: [{ type: 'text', text: 'a' }] },
      { type: 'paragraph', children: [{ type: 'text', text: 'b' }] },
    ])
  })

  it('parses many unclosed stars as text (each search for a closer is remembered)', () => {
    const source = '*a '.repeat(3334).slice(0, 10_000)
    expect(parseSafeMarkdown(source)).toEqual([
      { type: 'paragraph', children: [{ type: 'text', text: source }] },
    ])
    const closed = `${source}*b*`
    const [paragraph] = parseSafeMarkdown(closed)
    expect(paragraph?.children).toEqual([
      { type: 'em', children: [{ type: 'text', text: closed.slice(1, -1) }] },
    ])
  })

  it('finds the same closers as before for nested and doubled stars', () => {
    const [paragraph] = parseSafeMarkdown('*a **b** c* and *x**')
    expect(paragraph?.children).toEqual([
      {
        type: 'em',
        children: [
          { type: 'text', text: 'a ' },
          { type: 'strong', children: [{ type: 'text', text: 'b' }] },
          { type: 'text', text: ' c' },
        ],
      },
      { type: 'text', text: ' and *x**' },
    ])
  })

  it('follows the server’s file path', () => {
    const moved = FILE.replace('/files/', '/attachments/')
    expect(parseSafeMarkdown(`![a](${moved})`, { paths: { files: '/attachments/' } })[0]?.children).toEqual([
      { type: 'image', src: moved, alt: 'a' },
    ])
    expect(parseSafeMarkdown(`![a](${FILE})`, { paths: { files: '/attachments/' } })[0]?.children).toEqual([
      { type: 'text', text: `![a](${FILE})` },
    ])
  })

  it('accepts a host rule for images', () => {
    const [paragraph] = parseSafeMarkdown('![a](/img/1)', { isAllowedImageUrl: (url) => url === '/img/1' })
    expect(paragraph?.children).toEqual([{ type: 'image', src: '/img/1', alt: 'a' }])
  })
})

describe('URL rules', () => {
  it('isOwnFileUrl is exact', () => {
    expect(isOwnFileUrl(FILE)).toBe(true)
    expect(isOwnFileUrl(FILE, { files: '/uploads/' })).toBe(false)
    expect(isOwnFileUrl(FILE.replace('/files/', '/uploads/'), { files: '/uploads/' })).toBe(true)
    expect(isOwnFileUrl(`${FILE}/`)).toBe(false)
    expect(isOwnFileUrl(FILE.toUpperCase())).toBe(false)
  })

  it('safeLinkHref normalises http(s) and refuses the rest', () => {
    expect(safeLinkHref('HTTPS://Example.com')).toBe('https://example.com/')
    expect(safeLinkHref('https://')).toBeNull()
    expect(safeLinkHref('mailto:a@b.c')).toBeNull()
  })
})
