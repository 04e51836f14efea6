import { describe, expect, it } from 'vitest'
import { UpkitError } from './errors'
import {
  assertFileAllowed,
  checkFileAllowed,
  DEFAULT_IMAGE_COMPRESSION,
  normalizeMimeType,
  resolvePolicy,
} from './policies'
import { GiB, MiB, parseSize } from './sizes'

const attachments = resolvePolicy({ maxSize: '5GB', types: ['*/*'], label: 'attachments' })
const images = resolvePolicy({ maxSize: '10MB', types: ['image/*'], label: 'comment images' })
const pdfs = resolvePolicy({ maxSize: 1024, types: ['application/pdf'] })

describe('route policies', () => {
  it('applies defaults and reads sizes in binary units', () => {
    expect(resolvePolicy({ maxSize: '10MB', types: ['Image/PNG'] })).toEqual({
      maxBytes: 10 * MiB,
      types: ['image/png'],
      maxFiles: 20,
      contentCheck: true,
      label: 'files',
    })
    expect(parseSize('5GB')).toBe(5 * GiB)
    expect(parseSize('1.5MiB')).toBe(1.5 * MiB)
    expect(parseSize(12)).toBe(12)
  })

  it('refuses a policy that is not one, at definition time', () => {
    expect(() => resolvePolicy({ maxSize: '10 parsecs' as '10MB', types: ['*/*'] })).toThrow(TypeError)
    expect(() => resolvePolicy({ maxSize: 0, types: ['*/*'] })).toThrow(TypeError)
    expect(() => resolvePolicy({ maxSize: '1MB', types: [] })).toThrow(TypeError)
    expect(() => resolvePolicy({ maxSize: '1MB', types: ['*/pdf'] })).toThrow(TypeError)
    expect(() => resolvePolicy({ maxSize: '1MB', types: ['pdf'] })).toThrow(TypeError)
    expect(() => resolvePolicy({ maxSize: '1MB', types: ['*/*'], maxFiles: 0 })).toThrow(TypeError)
  })

  it('accepts an allowed file: exact types, families and any', () => {
    expect(checkFileAllowed(pdfs, { fileName: 'a.pdf', size: 10, mimeType: 'application/pdf' })).toBeNull()
    expect(checkFileAllowed(images, { fileName: 'a.webp', size: 10, mimeType: 'image/webp' })).toBeNull()
    expect(checkFileAllowed(attachments, { fileName: 'a.bin', size: 10, mimeType: 'x-foo/bar' })).toBeNull()
  })

  it('refuses a too-large file with a message naming both sizes', () => {
    const error = checkFileAllowed(images, { fileName: 'big.png', size: 11 * MiB, mimeType: 'image/png' })
    expect(error?.code).toBe('FILE_TOO_LARGE')
    expect(error?.transportCode).toBe('PAYLOAD_TOO_LARGE')
    expect(error?.message).toBe('"big.png" is 11 MiB; comment images can be at most 10 MiB.')
  })

  it('never lets a wildcard accept SVG; an exact entry does', () => {
    const svg = { fileName: 'x.svg', size: 5, mimeType: 'image/svg+xml' }
    expect(checkFileAllowed(images, svg)?.code).toBe('FILE_TYPE_NOT_ALLOWED')
    expect(checkFileAllowed(attachments, svg)?.code).toBe('FILE_TYPE_NOT_ALLOWED')
    expect(checkFileAllowed(resolvePolicy({ maxSize: 10, types: ['image/svg+xml'] }), svg)).toBeNull()
  })

  it('names the accepted types in the message while the list is short', () => {
    const many = resolvePolicy({
      maxSize: 10,
      types: ['image/*', 'text/plain', 'text/csv', 'video/mp4', 'application/zip', 'application/pdf'],
      label: 'attachments',
    })
    const html = { fileName: 'page.html', size: 5, mimeType: 'text/html' }
    expect(checkFileAllowed(many, html)?.message).toBe(
      '"page.html" is text/html, which attachments do not accept.',
    )
    expect(checkFileAllowed(pdfs, html)?.message).toBe(
      '"page.html" is text/html; files must be one of: application/pdf.',
    )
  })

  it('refuses a type outside the policy', () => {
    expect(() =>
      assertFileAllowed(images, { fileName: 'x.pdf', size: 5, mimeType: 'application/pdf' }),
    ).toThrow(UpkitError)
    expect(checkFileAllowed(pdfs, { fileName: 'x.svg', size: 5, mimeType: 'image/svg+xml' })?.code).toBe(
      'FILE_TYPE_NOT_ALLOWED',
    )
  })

  it('refuses empty files and nonsense sizes', () => {
    expect(checkFileAllowed(attachments, { fileName: 'e', size: 0, mimeType: 'text/plain' })?.code).toBe(
      'FILE_EMPTY',
    )
    expect(checkFileAllowed(attachments, { fileName: 'e', size: -1, mimeType: 'text/plain' })?.code).toBe(
      'INVALID_INPUT',
    )
    expect(
      checkFileAllowed(attachments, { fileName: 'e', size: 6 * GiB, mimeType: 'text/plain' })?.code,
    ).toBe('FILE_TOO_LARGE')
  })

  it('treats an unknown browser type as opaque bytes', () => {
    expect(normalizeMimeType('')).toBe('application/octet-stream')
    expect(normalizeMimeType('Text/Plain; charset=utf-8')).toBe('text/plain')
    expect(checkFileAllowed(attachments, { fileName: 'data.bin', size: 5, mimeType: '' })).toBeNull()
    expect(checkFileAllowed(pdfs, { fileName: 'data.bin', size: 5, mimeType: '' })?.code).toBe(
      'FILE_TYPE_NOT_ALLOWED',
    )
  })

  it('leaves compression off unless the route asks, and fills in its defaults', () => {
    expect(resolvePolicy({ maxSize: '10MB', types: ['image/*'] })).not.toHaveProperty('compress')
    expect(resolvePolicy({ maxSize: '10MB', types: ['image/*'], compress: {} }).compress).toEqual(
      DEFAULT_IMAGE_COMPRESSION,
    )
    expect(
      resolvePolicy({ maxSize: '10MB', types: ['image/*'], compress: { maxEdge: 1024, quality: 0.5 } })
        .compress,
    ).toEqual({ maxEdge: 1024, type: 'image/webp', quality: 0.5 })
  })

  it('refuses at start-up a compression whose output the route would refuse', () => {
    expect(() =>
      resolvePolicy({
        maxSize: '10MB',
        types: ['image/png', 'image/jpeg'],
        label: 'comment images',
        compress: { type: 'image/webp' },
      }),
    ).toThrow(
      'compress.type is image/webp, which comment images do not accept: add "image/webp" to the route\'s types or compress to a type it accepts.',
    )
    expect(
      resolvePolicy({ maxSize: '10MB', types: ['image/png', 'image/jpeg'], compress: { type: 'image/jpeg' } })
        .compress?.type,
    ).toBe('image/jpeg')
  })

  it('refuses compression settings that are not ones', () => {
    const images = { maxSize: '10MB', types: ['image/*'] } as const
    expect(() => resolvePolicy({ ...images, compress: { maxEdge: 0 } })).toThrow(/maxEdge/)
    expect(() => resolvePolicy({ ...images, compress: { maxEdge: 1.5 } })).toThrow(/maxEdge/)
    expect(() => resolvePolicy({ ...images, compress: { quality: 0 } })).toThrow(/quality/)
    expect(() => resolvePolicy({ ...images, compress: { quality: 2 } })).toThrow(/quality/)
    expect(() => resolvePolicy({ ...images, compress: { type: 'image/png' as 'image/webp' } })).toThrow(
      /compress.type must be one of image\/webp, image\/jpeg/,
    )
  })
})
