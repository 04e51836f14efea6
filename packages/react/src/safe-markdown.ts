import { DEFAULT_UPKIT_PATHS, type UpkitPaths } from '@upkit/core'
import { createElement, type ReactNode } from 'react'

/**
 * A deliberately tiny Markdown subset for user-written text. There is no HTML output step at all: the parser
 * yields nodes, the renderer turns them into React elements, and anything it does not recognise stays text
 * (which React escapes). So `<script>`, `<img onerror>` and `javascript:` links can only ever show as text.
 */
export type SafeInline =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'break' }
  | { readonly type: 'strong'; readonly children: readonly SafeInline[] }
  | { readonly type: 'em'; readonly children: readonly SafeInline[] }
  | { readonly type: 'code'; readonly text: string }
  | { readonly type: 'link'; readonly href: string; readonly text: string }
  | { readonly type: 'image'; readonly src: string; readonly alt: string }

export interface SafeParagraph {
  readonly type: 'paragraph'
  readonly children: readonly SafeInline[]
}

export interface SafeMarkdownOptions {
  /**
   * Where the server serves files. Default `DEFAULT_UPKIT_PATHS` (`/files/`); give the same paths as the
   * server's `paths` option. Only `<files><uuid>` images render (see `isAllowedImageUrl`).
   */
  readonly paths?: Partial<UpkitPaths>
  /**
   * Which image URLs may render as `<img>`. Default: only the app's own file route (`paths.files` + an upload
   * id), which checks membership on every request. Any other image reference (a tracking pixel, a URL that
   * changes content later, a huge remote file) renders as its Markdown text.
   */
  readonly isAllowedImageUrl?: (url: string) => boolean
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * `<files><uuid>` exactly: same origin, no query, no `..`, no protocol-relative `//host` (`paths.files` is a
 * validated absolute path such as `/files/`).
 */
export function isOwnFileUrl(url: string, paths: Partial<UpkitPaths> = DEFAULT_UPKIT_PATHS): boolean {
  const files = paths.files ?? DEFAULT_UPKIT_PATHS.files
  return url.startsWith(files) && UUID.test(url.slice(files.length))
}

/** The normalised `http:`/`https:` URL, or null for every other scheme (`javascript:`, `data:`, relative). */
export function safeLinkHref(url: string): string | null {
  if (!/^https?:\/\//i.test(url)) return null
  try {
    const parsed = new URL(url)
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null
  } catch {
    return null
  }
}

const ESCAPABLE = new Set(Array.from('\\`*_[]()!#'))
/** Nesting beyond this is rendered as text: bounds recursion on hostile input like 5000 `**`. */
const MAX_DEPTH = 8

export function parseSafeMarkdown(source: string, options: SafeMarkdownOptions = {}): SafeParagraph[] {
  const allowImage = options.isAllowedImageUrl ?? ((url: string) => isOwnFileUrl(url, options.paths))
  return source
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t]*\n+/)
    .map((block) => block.replace(/^\n+|\n+$/g, ''))
    .filter((block) => block.trim() !== '')
    .map((block) => ({ type: 'paragraph' as const, children: parseInline(block, allowImage, 0) }))
}

function parseInline(text: string, allowImage: (url: string) => boolean, depth: number): SafeInline[] {
  const out: SafeInline[] = []
  let buffer = ''
  const flush = () => {
    if (buffer) out.push({ type: 'text', text: buffer })
    buffer = ''
  }
  const closers = new Map<string, Map<number, number>>()
  let i = 0
  while (i < text.length) {
    const char = text[i] as string
    const next = text[i + 1]

    if (char === '\\' && next !== undefined && ESCAPABLE.has(next)) {
      buffer += next
      i += 2
      continue
    }
    if (char === '\n') {
      flush()
      out.push({ type: 'break' })
      i += 1
      continue
    }
    if (char === '`') {
      const end = text.indexOf('`', i + 1)
      if (end > i + 1) {
        flush()
        out.push({ type: 'code', text: text.slice(i + 1, end) })
        i = end + 1
        continue
      }
    }
    const image = char === '!' && next === '['
    if (image || char === '[') {
      const ref = readReference(text, image ? i + 1 : i)
      if (ref) {
        const node = image ? imageNode(ref, allowImage) : linkNode(ref)
        if (node) {
          flush()
          out.push(node)
        } else {
          // Not one of our files, or not an http(s) link: the whole reference stays visible as text, so
          // nothing is silently dropped.
          buffer += text.slice(i, ref.end)
        }
        i = ref.end
        continue
      }
    }
    if (char === '*' && depth < MAX_DEPTH) {
      const strong = next === '*'
      const marker = strong ? '**' : '*'
      const start = i + marker.length
      let memo = closers.get(marker)
      if (!memo) {
        memo = new Map()
        closers.set(marker, memo)
      }
      const end = findCloser(text, start, marker, memo)
      if (end !== -1) {
        flush()
        const children = parseInline(text.slice(start, end), allowImage, depth + 1)
        out.push(strong ? { type: 'strong', children } : { type: 'em', children })
        i = end + marker.length
        continue
      }
    }
    buffer += char
    i += 1
  }
  flush()
  return out
}

/**
 * The closing marker for an emphasis opened at `start`: content must not be empty or start/end with a space.
 *
 * The candidates after one marker form a chain that does not depend on `start`, so `memo` (one per text and
 * marker) keeps, for every position walked, the closer its chain ends in (-1 for none). Without it, text like
 * `*a *a *a …` rescans the rest of the text for every star: quadratic, about 150 ms for 10,000 characters.
 */
function findCloser(text: string, start: number, marker: string, memo: Map<number, number>): number {
  if (start >= text.length || /\s/.test(text[start] as string)) return -1
  const following = (at: number) => text.indexOf(marker, at + (isDoubled(text, at, marker) ? 2 : 1))
  let at = text.indexOf(marker, start)
  // A marker right at `start` would close an empty emphasis.
  if (at === start) at = following(at)
  const walked: number[] = []
  let found = -1
  while (at !== -1) {
    const known = memo.get(at)
    if (known !== undefined) {
      found = known
      break
    }
    walked.push(at)
    if (!/\s/.test(text[at - 1] as string) && !isDoubled(text, at, marker)) {
      found = at
      break
    }
    at = following(at)
  }
  for (const position of walked) memo.set(position, found)
  return found
}

/** `**` inside `*…*` is not a closer for the single star. */
function isDoubled(text: string, at: number, marker: string): boolean {
  return marker === '*' && text[at + 1] === '*'
}

type Reference = { readonly label: string; readonly url: string; readonly end: number }

function imageNode(ref: Reference, allowImage: (url: string) => boolean): SafeInline | null {
  return allowImage(ref.url) ? { type: 'image', src: ref.url, alt: ref.label } : null
}

function linkNode(ref: Reference): SafeInline | null {
  const href = safeLinkHref(ref.url)
  return href ? { type: 'link', href, text: ref.label } : null
}

/** `[label](url)` starting at `open` (the `[`); the label may not span lines, the URL may not contain spaces. */
function readReference(text: string, open: number): Reference | null {
  const close = text.indexOf(']', open + 1)
  if (close === -1 || text[close + 1] !== '(') return null
  const label = text.slice(open + 1, close)
  if (label.includes('\n') || label.includes('[')) return null
  const urlEnd = text.indexOf(')', close + 2)
  if (urlEnd === -1) return null
  const url = text.slice(close + 2, urlEnd)
  if (/\s/.test(url)) return null
  return { label, url, end: urlEnd + 1 }
}

export interface RenderSafeMarkdownOptions extends SafeMarkdownOptions {
  /** Class on each `<img>`, for the host's styles. Default none. */
  readonly imageClassName?: string
}

/**
 * Renders the Markdown subset as React elements: paragraphs, line breaks, **bold**, *italic*, `code`,
 * http(s) links (opened in a new tab, `rel="noopener noreferrer nofollow"`) and images from the app's own
 * file route (`<paths.files><uuid>`) only. Never produces raw HTML.
 */
export function renderSafeMarkdown(source: string, options: RenderSafeMarkdownOptions = {}): ReactNode[] {
  return parseSafeMarkdown(source, options).map((paragraph, index) =>
    createElement('p', { key: index }, renderInline(paragraph.children, options)),
  )
}

function renderInline(nodes: readonly SafeInline[], options: RenderSafeMarkdownOptions): ReactNode[] {
  return nodes.map((node, key) => renderNode(node, key, options))
}

function renderNode(node: SafeInline, key: number, options: RenderSafeMarkdownOptions): ReactNode {
  switch (node.type) {
    case 'text':
      return node.text
    case 'break':
      return createElement('br', { key })
    case 'strong':
      return createElement('strong', { key }, renderInline(node.children, options))
    case 'em':
      return createElement('em', { key }, renderInline(node.children, options))
    case 'code':
      return createElement('code', { key }, node.text)
    case 'link':
      return createElement(
        'a',
        { key, href: node.href, target: '_blank', rel: 'noopener noreferrer nofollow' },
        node.text,
      )
    case 'image':
      return createElement('img', {
        key,
        src: node.src,
        alt: node.alt,
        loading: 'lazy',
        // The file route redirects to a signed bucket URL; the bucket need not learn which page linked it.
        referrerPolicy: 'no-referrer',
        ...(options.imageClassName ? { className: options.imageClassName } : {}),
      })
  }
}
