import { createElement } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { relativeDate, UploadList } from './upload-list'

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
    expect(link).toContain('href="/files/u1?download"')
    expect(link).toContain('aria-label="Download report.pdf"')
    expect(link).toContain('data-upkit-download=""')
    expect(html).not.toContain('<button')
  })

  it('follows the configured files path', () => {
    const html = renderToStaticMarkup(
      createElement(UploadList, { uploads, paths: { files: '/attachments/' } }),
    )
    expect(html).toContain('href="/attachments/u1?download"')
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

describe('UploadList previews and who uploaded', () => {
  const base = { size: 10, confirmedAt: null, uploadedBy: null }

  it("shows the server's thumbnail instead of the file, and a type icon without one", () => {
    const html = renderToStaticMarkup(
      createElement(UploadList, {
        uploads: [
          {
            ...base,
            id: 'u1',
            fileName: 'photo.jpg',
            mimeType: 'image/jpeg',
            thumbnailUrl: '/files/u1/thumbnail',
          },
          { ...base, id: 'u2', fileName: 'old.png', mimeType: 'image/png', thumbnailUrl: null },
          { ...base, id: 'u3', fileName: 'report.pdf', mimeType: 'application/pdf', thumbnailUrl: null },
        ],
      }),
    )
    expect(html).toContain('src="/files/u1/thumbnail"')
    // Never the original for a preview once the server says there is no thumbnail.
    expect(html).not.toContain('src="/files/u2"')
    expect(html).toContain('aria-label="Image file"')
    expect(html).toContain('aria-label="PDF file"')
  })

  it("names the uploader only through the host's uploaderName, and says when", () => {
    const uploads = [
      {
        ...base,
        id: 'u1',
        fileName: 'a.pdf',
        mimeType: 'application/pdf',
        uploadedBy: 'user-1',
        confirmedAt: new Date(Date.now() - 3 * 60_000).toISOString(),
      },
    ]
    const hidden = renderToStaticMarkup(createElement(UploadList, { uploads }))
    expect(hidden).not.toContain('user-1')
    expect(hidden).toMatch(/<time class="upkit-date" datetime="[^"]+"[^>]*>3 minutes ago<\/time>/i)
    const named = renderToStaticMarkup(
      createElement(UploadList, { uploads, uploaderName: (id) => (id === 'user-1' ? 'Ada' : undefined) }),
    )
    expect(named).toContain('<span class="upkit-uploader" dir="auto">Ada</span>')
  })
})

describe('relativeDate', () => {
  const now = Date.parse('2026-11-30T12:00:00Z')
  it('says how long ago, then the date past a week', () => {
    expect(relativeDate('2026-11-30T11:59:50Z', now, 'en')).toBe('now')
    expect(relativeDate('2026-11-30T11:57:00Z', now, 'en')).toBe('3 minutes ago')
    expect(relativeDate('2026-11-30T07:00:00Z', now, 'en')).toBe('5 hours ago')
    expect(relativeDate('2026-11-29T10:00:00Z', now, 'en')).toBe('yesterday')
    expect(relativeDate('2026-11-01T10:00:00Z', now, 'en')).toBe('Nov 1, 2026')
    expect(relativeDate('not a date', now, 'en')).toBe('')
  })
})
