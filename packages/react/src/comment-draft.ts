/**
 * Pure text operations of the comment editor: the Markdown it writes for pasted images, kept apart from the
 * component so they are tested without a browser.
 */

/** A file name as Markdown image alt text: brackets, parentheses and line breaks would end the reference early. */
export function altText(fileName: string): string {
  const cleaned = fileName
    .replace(/[[\]()\\`*!\r\n]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
  return cleaned === '' ? 'image' : cleaned.slice(0, 100)
}

/** `![Uploading shot.png…]()`, numbered when the same text is already in `body` so each one can be replaced. */
export function uploadingPlaceholder(fileName: string, body: string): string {
  const name = altText(fileName)
  for (let n = 1; ; n++) {
    const candidate = `![Uploading ${name}${n === 1 ? '' : ` (${n})`}…]()`
    if (!body.includes(candidate)) return candidate
  }
}

/** `![name](url)`; `url` is the file's own route (`fileUrl(paths, uploadId)`). */
export function imageReference(fileName: string, url: string): string {
  return `![${altText(fileName)}](${url})`
}

/**
 * `insert` replaces the selection `[start, end)`; the caret lands after it. Text on either side is kept on its
 * own line, so the image reference is its own line of Markdown.
 */
export function insertAtSelection(
  body: string,
  start: number,
  end: number,
  insert: string,
): { body: string; caret: number } {
  const from = Math.max(0, Math.min(start, body.length))
  const to = Math.max(from, Math.min(end, body.length))
  const before = body.slice(0, from)
  const after = body.slice(to)
  const lead = before === '' || before.endsWith('\n') ? '' : '\n'
  const trail = after.startsWith('\n') ? '' : '\n'
  const text = `${lead}${insert}${trail}`
  return { body: before + text + after, caret: before.length + text.length }
}

/**
 * Swaps `placeholder` for `replacement`. When the placeholder was edited away, the reference is appended, so a
 * finished upload is never lost from the comment.
 */
export function replacePlaceholder(body: string, placeholder: string, replacement: string): string {
  if (body.includes(placeholder)) return body.replace(placeholder, () => replacement)
  return body === '' || body.endsWith('\n') ? `${body}${replacement}` : `${body}\n${replacement}`
}

/** Removes a placeholder together with the line break it was inserted with. */
export function removePlaceholder(body: string, placeholder: string): string {
  if (!body.includes(placeholder)) return body
  return body.replace(`${placeholder}\n`, '').replace(placeholder, '')
}
