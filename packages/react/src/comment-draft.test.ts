import { describe, expect, it } from 'vitest'
import {
  altText,
  imageReference,
  insertAtSelection,
  removePlaceholder,
  replacePlaceholder,
  uploadingPlaceholder,
} from './comment-draft'
import { parseSafeMarkdown } from './safe-markdown'

const ID = '0b6f4a4e-9a5e-4a8e-9a43-3c0c7a1b2d3e'

describe('comment draft text', () => {
  it('writes a reference the safe renderer shows as an image, whatever the file is called', () => {
    const reference = imageReference('shot](javascript:alert(1)).png', `/files/${ID}`)
    expect(reference).toBe(`![shot javascript:alert 1 .png](/files/${ID})`)
    expect(parseSafeMarkdown(reference)[0]?.children).toEqual([
      { type: 'image', src: `/files/${ID}`, alt: 'shot javascript:alert 1 .png' },
    ])
    expect(altText('\n[]')).toBe('image')
  })

  it('numbers placeholders so two pastes of the same file stay distinct', () => {
    const first = uploadingPlaceholder('shot.png', '')
    expect(first).toBe('![Uploading shot.png…]()')
    expect(uploadingPlaceholder('shot.png', `hi ${first}`)).toBe('![Uploading shot.png (2)…]()')
  })

  it('inserts at the caret on a line of its own', () => {
    expect(insertAtSelection('ab', 1, 1, 'X')).toEqual({ body: 'a\nX\nb', caret: 4 })
    expect(insertAtSelection('', 0, 0, 'X')).toEqual({ body: 'X\n', caret: 2 })
    expect(insertAtSelection('a\n', 2, 2, 'X')).toEqual({ body: 'a\nX\n', caret: 4 })
    // A selection is replaced.
    expect(insertAtSelection('a sel b', 2, 5, 'X').body).toBe('a \nX\n b')
  })

  it('replaces the placeholder, or appends when it was edited away', () => {
    const placeholder = '![Uploading a.png…]()'
    expect(replacePlaceholder(`x\n${placeholder}\ny`, placeholder, '![a.png](/files/1)')).toBe(
      'x\n![a.png](/files/1)\ny',
    )
    // `$&` in a replacement must not be expanded by String.replace.
    expect(replacePlaceholder(placeholder, placeholder, '$&')).toBe('$&')
    expect(replacePlaceholder('edited', placeholder, 'R')).toBe('edited\nR')
  })

  it('removes a placeholder with its line break', () => {
    const placeholder = '![Uploading a.png…]()'
    expect(removePlaceholder(`x\n${placeholder}\ny`, placeholder)).toBe('x\ny')
    expect(removePlaceholder('nothing', placeholder)).toBe('nothing')
  })
})
