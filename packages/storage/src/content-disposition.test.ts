import { describe, expect, it } from 'vitest'
import { contentDisposition, contentDispositionAttachment } from './content-disposition'

function parse(header: string) {
  const match = /^attachment; filename="([^"]*)"; filename\*=UTF-8''([^;\s]*)$/.exec(header)
  if (!match) throw new Error(`unexpected shape: ${header}`)
  return { fallback: match[1], encoded: match[2] ?? '' }
}

describe('contentDispositionAttachment', () => {
  it('keeps plain ASCII names as they are', () => {
    expect(contentDispositionAttachment('report-2024.pdf')).toBe(
      `attachment; filename="report-2024.pdf"; filename*=UTF-8''report-2024.pdf`,
    )
  })

  it('encodes unicode with RFC 5987 and strips accents in the fallback', () => {
    const header = contentDispositionAttachment('résumé 日本.pdf')
    const { fallback, encoded } = parse(header)
    expect(fallback).toBe('resume __.pdf')
    expect(encoded).toBe('r%C3%A9sum%C3%A9%20%E6%97%A5%E6%9C%AC.pdf')
    expect(decodeURIComponent(encoded)).toBe('résumé 日本.pdf')
    expect(header).toMatch(/^[\x20-\x7e]*$/)
  })

  it("escapes ' ( ) * which encodeURIComponent leaves alone", () => {
    const { encoded, fallback } = parse(contentDispositionAttachment("it's (final) *v2*.txt"))
    expect(encoded).toBe('it%27s%20%28final%29%20%2Av2%2A.txt')
    expect(encoded).not.toMatch(/['()*]/)
    expect(fallback).toBe("it's (final) *v2*.txt")
  })

  it('never lets quotes, backslashes or line breaks escape the quoted fallback', () => {
    const header = contentDispositionAttachment('a"b\\c\r\nSet-Cookie: x=1.txt')
    const { fallback, encoded } = parse(header)
    expect(fallback).toBe('a_b_c Set-Cookie: x=1.txt')
    expect(header).not.toMatch(/[\r\n]/)
    expect(decodeURIComponent(encoded)).toBe('a"b_c Set-Cookie: x=1.txt')
  })

  it('drops bidi overrides and invisible format characters from both names', () => {
    const { fallback, encoded } = parse(contentDispositionAttachment('invoice\u202Etxt\u200B\u2066.exe'))
    expect(fallback).toBe('invoicetxt.exe')
    expect(decodeURIComponent(encoded)).toBe('invoicetxt.exe')
    expect(parse(contentDispositionAttachment('\u202E\u200F')).fallback).toBe('download')
  })

  it('writes the composed (NFC) form of a name', () => {
    expect(parse(contentDispositionAttachment('re\u0301sume\u0301.pdf')).encoded).toBe('r%C3%A9sum%C3%A9.pdf')
  })

  it('replaces path separators so the name cannot be read as a path', () => {
    expect(parse(contentDispositionAttachment('../../etc/passwd')).fallback).toBe('.._.._etc_passwd')
  })

  it('survives lone surrogates and empty names', () => {
    expect(() => contentDispositionAttachment('bad\uD800.txt')).not.toThrow()
    expect(parse(contentDispositionAttachment('bad\uD800.txt')).encoded).toBe('bad%EF%BF%BD.txt')
    expect(parse(contentDispositionAttachment('   ')).fallback).toBe('download')
  })
})

describe('contentDisposition', () => {
  it('builds the inline form with the same encoding', () => {
    expect(contentDisposition('inline', 'été (1).png')).toBe(
      `inline; filename="ete (1).png"; filename*=UTF-8''%C3%A9t%C3%A9%20%281%29.png`,
    )
  })
})
