import { describe, expect, it } from 'vitest'
import { UpkitError } from './errors'
import { assertFileAllowed, checkFileAllowed, normalizeMimeType } from './policies'
import { GiB, MiB } from './sizes'

describe('file policies', () => {
  it('accepts an allowed file', () => {
    expect(
      checkFileAllowed('attachment', { fileName: 'a.pdf', size: 10, mimeType: 'application/pdf' }),
    ).toBeNull()
  })

  it('refuses a too-large file with a message naming both sizes', () => {
    const error = checkFileAllowed('comment-image', {
      fileName: 'big.png',
      size: 11 * MiB,
      mimeType: 'image/png',
    })
    expect(error?.code).toBe('FILE_TOO_LARGE')
    expect(error?.transportCode).toBe('PAYLOAD_TOO_LARGE')
    expect(error?.message).toBe('"big.png" is 11 MiB; comment images can be at most 10 MiB.')
  })

  it('refuses a type outside the policy', () => {
    expect(() =>
      assertFileAllowed('comment-image', { fileName: 'x.pdf', size: 5, mimeType: 'application/pdf' }),
    ).toThrow(UpkitError)
    expect(
      checkFileAllowed('attachment', { fileName: 'x.svg', size: 5, mimeType: 'image/svg+xml' })?.code,
    ).toBe('FILE_TYPE_NOT_ALLOWED')
  })

  it('refuses empty files and nonsense sizes', () => {
    expect(checkFileAllowed('attachment', { fileName: 'e', size: 0, mimeType: 'text/plain' })?.code).toBe(
      'FILE_EMPTY',
    )
    expect(checkFileAllowed('attachment', { fileName: 'e', size: -1, mimeType: 'text/plain' })?.code).toBe(
      'INVALID_INPUT',
    )
    expect(
      checkFileAllowed('attachment', { fileName: 'e', size: 6 * GiB, mimeType: 'text/plain' })?.code,
    ).toBe('FILE_TOO_LARGE')
  })

  it('treats an unknown browser type as opaque bytes', () => {
    expect(normalizeMimeType('')).toBe('application/octet-stream')
    expect(normalizeMimeType('Text/Plain; charset=utf-8')).toBe('text/plain')
    expect(checkFileAllowed('attachment', { fileName: 'data.bin', size: 5, mimeType: '' })).toBeNull()
  })
})
