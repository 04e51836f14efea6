import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { buildObjectKey, companyKeyPrefix, parseObjectKey } from './keys'

describe('object keys', () => {
  const parts = {
    companyId: randomUUID(),
    scope: 'tasks',
    ownerId: randomUUID(),
    uploadId: randomUUID(),
  } as const

  it('round-trips and starts with the company prefix', () => {
    const key = buildObjectKey(parts)
    expect(key.startsWith(companyKeyPrefix(parts.companyId))).toBe(true)
    expect(parseObjectKey(key)).toEqual(parts)
  })

  it('refuses anything that is not a server-made id', () => {
    expect(() => buildObjectKey({ ...parts, uploadId: '../../etc/passwd' })).toThrow(TypeError)
    expect(() => buildObjectKey({ ...parts, ownerId: 'report.pdf' })).toThrow(TypeError)
    expect(parseObjectKey(`companies/${parts.companyId}/tasks/${parts.ownerId}/../x`)).toBeNull()
    expect(parseObjectKey('uploads/logo.png')).toBeNull()
  })
})
