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
