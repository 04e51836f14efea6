import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { assertKeyPrefix, buildObjectKey, tenantKeyPrefix } from './keys'

describe('object keys', () => {
  const parts = {
    prefix: 'uploads/',
    tenantId: randomUUID(),
    route: 'taskAttachment',
    uploadId: randomUUID(),
  }

  it('is <prefix><tenant>/<route>/<upload id>', () => {
    const key = buildObjectKey(parts)
    expect(key).toBe(`uploads/${parts.tenantId}/taskAttachment/${parts.uploadId}`)
    expect(key.startsWith(tenantKeyPrefix('uploads/', parts.tenantId))).toBe(true)
  })

  it('refuses anything that is not key-safe', () => {
    expect(() => buildObjectKey({ ...parts, uploadId: '../../etc/passwd' })).toThrow(TypeError)
    expect(() => buildObjectKey({ ...parts, tenantId: '../other' })).toThrow(TypeError)
    expect(() => buildObjectKey({ ...parts, tenantId: 'a/b' })).toThrow(TypeError)
    expect(() => buildObjectKey({ ...parts, tenantId: '..' })).toThrow(TypeError)
    expect(() => buildObjectKey({ ...parts, route: 'report.pdf/x' })).toThrow(TypeError)
    expect(() => assertKeyPrefix('uploads')).toThrow(TypeError)
    expect(() => assertKeyPrefix('/uploads/')).toThrow(TypeError)
    expect(() => assertKeyPrefix('app/files/')).not.toThrow()
  })
})
