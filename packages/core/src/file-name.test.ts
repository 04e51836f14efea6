import { describe, expect, it } from 'vitest'
import { cleanFileName } from './file-name'
import { fileNameSchema } from './schemas'

describe('cleanFileName', () => {
  it('removes bidi overrides, embeddings, isolates and marks, so a name reads as it is', () => {
    expect(cleanFileName('invoice\u202Etxt.exe')).toBe('invoicetxt.exe')
    const bidi = '\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\u200E\u200F\u061C'
    expect(cleanFileName(`a${bidi}b.pdf`)).toBe('ab.pdf')
  })

  it('removes zero-width and other format characters (Cf) and controls (Cc)', () => {
    expect(cleanFileName('\uFEFFre\u200Bport\u200D\u00AD\u2060.pdf')).toBe('report.pdf')
    expect(cleanFileName('a\u0000b\u0007c\u007F\u009Bd.txt')).toBe('abcd.txt')
  })

  it('turns line breaks and tabs into one space', () => {
    expect(cleanFileName('a\r\nSet-Cookie: x\t1\u2028.txt')).toBe('a Set-Cookie: x 1 .txt')
  })

  it('composes to NFC and keeps ordinary non-ASCII names as they are', () => {
    expect(cleanFileName('re\u0301sume\u0301.pdf')).toBe('r\u00e9sum\u00e9.pdf')
    expect(cleanFileName('日本 (1) – été.png')).toBe('日本 (1) – été.png')
    expect(cleanFileName('\u05E9\u05DC\u05D5\u05DD.txt')).toBe('\u05E9\u05DC\u05D5\u05DD.txt')
  })

  it('replaces a lone surrogate with U+FFFD instead of keeping an unencodable name', () => {
    expect(cleanFileName('bad\uD800.txt')).toBe('bad\uFFFD.txt')
    expect(() => encodeURIComponent(cleanFileName('bad\uDC00.txt'))).not.toThrow()
  })
})

describe('fileNameSchema', () => {
  it('parses to the cleaned name instead of refusing it', () => {
    expect(fileNameSchema.parse('invoice\u202Etxt.exe')).toBe('invoicetxt.exe')
    expect(fileNameSchema.parse('  line\nbreak.txt ')).toBe('line break.txt')
  })

  it('refuses a name with nothing visible left, and counts length after cleaning', () => {
    expect(fileNameSchema.safeParse('\u202E\u200B\u0000 ').success).toBe(false)
    expect(fileNameSchema.safeParse(`${'\u200B'.repeat(100)}${'a'.repeat(255)}`).success).toBe(true)
    expect(fileNameSchema.safeParse('a'.repeat(256)).success).toBe(false)
    expect(fileNameSchema.safeParse('\u200B'.repeat(5000)).success).toBe(false)
  })
})
