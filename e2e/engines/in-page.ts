/**
 * Scripts that run inside the page, as plain-JavaScript source text (see `EnginePage.evaluate` for why text).
 * Locating by role and accessible name is done here, once, rather than with each driver's own selector engine:
 * WebDriver has no accessibility-tree locator that all three engines share, and one implementation means a
 * target matches the same element everywhere.
 */

/**
 * `(target) => Element[]`: the visible elements a `Target` names. The accessible name is a pragmatic subset of the
 * spec (aria-label, aria-labelledby, alt, <label>, then text), which is all the demo's markup uses; names compare
 * exactly after collapsing whitespace, like Playwright's `exact: true`.
 */
const FIND = `(target) => {
  const norm = (s) => (s || '').replace(/\\s+/g, ' ').trim()
  const ROLES = {
    button: 'button, [role="button"], input[type="button"], input[type="submit"]',
    link: 'a[href], [role="link"]',
    heading: 'h1, h2, h3, h4, h5, h6, [role="heading"]',
    img: 'img, [role="img"]',
    list: 'ul, ol, [role="list"]',
    banner: 'header, [role="banner"]',
    textbox: 'textarea, input:not([type]), input[type="text"], input[type="email"], [role="textbox"]',
    progressbar: 'progress, [role="progressbar"]',
    alert: '[role="alert"]',
  }
  const textOf = (el) => norm(el.textContent)
  const nameOf = (el) => {
    const label = el.getAttribute('aria-label')
    if (label) return norm(label)
    const by = el.getAttribute('aria-labelledby')
    if (by) return norm(by.split(/\\s+/).map((id) => { const l = document.getElementById(id); return l ? l.textContent : '' }).join(' '))
    if (el.tagName === 'IMG') return norm(el.getAttribute('alt'))
    if (el.labels && el.labels.length > 0) return norm(Array.from(el.labels).map(textOf).join(' '))
    return textOf(el)
  }
  // A visually hidden file input (1px, clipped) still counts: the drop zone and logo picker hide theirs that way.
  const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden'
  let roots = [document]
  if (target.within) {
    roots = Array.from(document.querySelectorAll(ROLES[target.within.role])).filter(
      (el) => visible(el) && (target.within.name === undefined || nameOf(el) === target.within.name),
    )
  }
  const found = new Set()
  for (const root of roots) {
    if (target.label !== undefined) {
      for (const el of root.querySelectorAll('input, textarea, select, [aria-label], [aria-labelledby]')) {
        if (visible(el) && nameOf(el) === target.label) found.add(el)
      }
    } else {
      for (const el of root.querySelectorAll(ROLES[target.role])) {
        if (visible(el) && (target.name === undefined || nameOf(el) === target.name)) found.add(el)
      }
    }
  }
  return Array.from(found)
}`

/** `({ target, token }) => number`: marks the element with `data-e2e-target=token` when exactly one matches. */
export const MARK = `({ target, token }) => {
  const found = (${FIND})(target)
  // One mark at a time, so "the marked element" is always the last one resolved.
  for (const old of document.querySelectorAll('[data-e2e-target]')) old.removeAttribute('data-e2e-target')
  if (found.length === 1) found[0].setAttribute('data-e2e-target', token)
  return found.length
}`

export const markedSelector = (token: string) => `[data-e2e-target="${token}"]`

/** `(target) => number`: how many visible elements match. */
export const COUNT = `(target) => (${FIND})(target).length`

/** `({ target, attribute }) => string | null`, from the first match; `attribute: 'value'` reads the live value. */
export const READ = `({ target, attribute }) => {
  const el = (${FIND})(target)[0]
  if (!el) return null
  if (attribute === 'value') return el.value
  if (attribute === 'text') return el.textContent.replace(/\\s+/g, ' ').trim()
  if (attribute === 'naturalWidth') return String(el.naturalWidth)
  if (attribute === 'focused') return String(document.activeElement === el)
  return el.getAttribute(attribute)
}`

/** `() => string`: the page's visible text, for waiting on messages and for failure reports. */
export const BODY_TEXT = '() => document.body.innerText'

/**
 * `(url) => { status, type, disposition, bytes, sha256 }`: fetches `url` with the page's cookies and hashes the body
 * in the page, so a 64 MiB file is not shipped back through the driver's JSON protocol.
 */
export const FETCH_DIGEST = `async (url) => {
  const res = await fetch(url, { credentials: 'include' })
  const body = await res.arrayBuffer()
  const digest = await crypto.subtle.digest('SHA-256', body)
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    bytes: body.byteLength,
    sha256: Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join(''),
  }
}`

/**
 * `({ width, height }) => base64 PNG`: an image drawn by this engine's own canvas (a gradient and shapes, so it is
 * not trivially compressible).
 */
export const DRAW_PNG = `({ width, height }) => {
  const canvas = document.createElement('canvas')
  canvas.width = width
  canvas.height = height
  const context = canvas.getContext('2d')
  const gradient = context.createLinearGradient(0, 0, width, height)
  gradient.addColorStop(0, '#3559e0')
  gradient.addColorStop(1, '#f2a900')
  context.fillStyle = gradient
  context.fillRect(0, 0, width, height)
  context.fillStyle = '#fff'
  context.beginPath()
  context.arc(width / 2, height / 2, height / 3, 0, Math.PI * 2)
  context.fill()
  context.fillStyle = '#1d2330'
  context.font = Math.round(height / 5) + 'px sans-serif'
  context.fillText('ACME', width / 4, height / 2)
  return canvas.toDataURL('image/png').split(',')[1]
}`

/** `() => boolean`: whether this engine's canvas encodes WebP (WebKit answers PNG to the same call). */
export const ENCODES_WEBP = `() => {
  const canvas = document.createElement('canvas')
  canvas.width = 2
  canvas.height = 2
  return canvas.toDataURL('image/webp').startsWith('data:image/webp')
}`

/**
 * `({ target, name }) => void`: pastes a 320x200 canvas PNG into the element. No driver can put a file on the
 * system clipboard (WebDriver has no clipboard command; Firefox and WebKit have no CDP), so this builds the
 * `paste` event the browser would fire: a ClipboardEvent whose DataTransfer holds a File. The editor's handler
 * reads `clipboardData.files` exactly as for a real paste. Resolves how many files the event carried.
 */
export const PASTE_IMAGE = `({ target, name }) => new Promise((resolve, reject) => {
  const element = (${FIND})(target)[0]
  if (!element) return reject(new Error('nothing to paste into'))
  const canvas = document.createElement('canvas')
  canvas.width = 320
  canvas.height = 200
  const context = canvas.getContext('2d')
  context.fillStyle = '#0a7'
  context.fillRect(0, 0, 320, 200)
  context.fillStyle = '#fff'
  context.fillRect(40, 40, 120, 80)
  canvas.toBlob((blob) => {
    if (!blob) return reject(new Error('canvas gave no PNG'))
    blob.arrayBuffer().then((bytes) => {
      const data = new DataTransfer()
      data.items.add(new File([bytes], name, { type: 'image/png' }))
      element.focus()
      const event = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true })
      // Firefox's ClipboardEvent constructor copies only the string items of clipboardData, so the file is lost;
      // the event then gets our DataTransfer as its own property.
      if (!event.clipboardData || event.clipboardData.files.length !== 1) {
        Object.defineProperty(event, 'clipboardData', { value: data })
      }
      element.dispatchEvent(event)
      resolve(event.clipboardData.files.length)
    }, reject)
  }, 'image/png')
})`
