import { createElement } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { UploadList } from './upload-list'

const render = (fileName: string, mimeType = 'application/pdf') =>
  renderToStaticMarkup(
    createElement(UploadList, {
      uploads: [{ id: 'u1', fileName, size: 10, mimeType }],
      getDownloadUrl: async () => 'https://bucket.test/x',
      onDelete: async () => {},
    }),
  )

describe('UploadList names', () => {
  it('renders a name as text, never as markup', () => {
    const html = render('<img src=x onerror=alert(1)>"&.pdf', 'image/png')
    expect(html).not.toContain('<img src=x')
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;&quot;&amp;.pdf')
  })

  it('shows a name without bidi overrides or invisible characters, isolated from what follows', () => {
    const html = render('invoice\u202Etxt\u200B.exe')
    expect(html).not.toMatch(/[\u202A-\u202E\u2066-\u2069\u200B]/)
    expect(html).toContain('<span class="upkit-name" dir="auto">invoicetxt.exe</span>')
    expect(html).toContain('aria-label="Download invoicetxt.exe"')
  })
})

describe('UploadList downloads', () => {
  const uploads = [{ id: 'u1', fileName: 'report.pdf', size: 10, mimeType: 'application/pdf' }]

  it('links each Download to the app URL of the file, named after the file', () => {
    const html = renderToStaticMarkup(createElement(UploadList, { uploads }))
    const link = html.match(/<a [^>]*>Download<\/a>/)?.[0] ?? ''
    expect(link).toContain('href="/files/u1"')
    expect(link).toContain('aria-label="Download report.pdf"')
    expect(link).toContain('data-upkit-download=""')
    expect(html).not.toContain('<button')
  })

  it('follows the configured files path', () => {
    const html = renderToStaticMarkup(
      createElement(UploadList, { uploads, paths: { files: '/attachments/' } }),
    )
    expect(html).toContain('href="/attachments/u1"')
  })

  it('shows an image thumbnail from the same link', () => {
    const html = renderToStaticMarkup(
      createElement(UploadList, {
        uploads: [{ id: 'u2', fileName: 'a.png', size: 10, mimeType: 'image/png' }],
      }),
    )
    expect(html).toContain('<img class="upkit-thumbnail" src="/files/u2" alt="Preview of a.png"')
  })

  it('renders a button instead when the app gives getDownloadUrl (auth that does not travel with a link)', () => {
    const html = renderToStaticMarkup(
      createElement(UploadList, { uploads, getDownloadUrl: async () => 'https://bucket.test/x' }),
    )
    expect(html).not.toContain('<a ')
    expect(html).toMatch(/<button type="button" aria-label="Download report.pdf" data-upkit-download=""/)
  })
})
