import { uploadRoutes } from '@upkit/server'
import { describe, expect, it } from 'vitest'
import type { LegacyReference } from './legacy-source'
import { planMigration } from './plan'

const route = uploadRoutes<unknown>()
const routes = {
  attachment: route.bucket({
    policy: { maxSize: '1MB', types: ['*/*'] },
    authorize: () => ({ tenantId: 't' }),
  }),
}

function plan(references: Omit<LegacyReference, 'route' | 'tenantId' | 'ownerId' | 'input'>[]) {
  const full = references.map((reference) => ({
    route: 'attachment',
    tenantId: 'acme',
    ownerId: null,
    input: {},
    ...reference,
  }))
  return planMigration({
    references: full,
    existing: [],
    scanned: {
      files: new Map(full.map((reference) => [reference.path, 3])),
      symlinks: new Set(),
      special: new Set(),
    },
    routes,
    keyPrefix: 'uploads',
  })
}

describe('planMigration file names', () => {
  it('cleans legacy names the way create does: no bidi overrides or controls, NFC', () => {
    const result = plan([
      { source: 'a', path: 'task/invoice\u202Etxt.exe' },
      { source: 'b', path: 'task/x.bin', fileName: 're\u0301sume\u0301\u200B\n2024.pdf' },
    ])
    expect(result.failures).toEqual([])
    expect(result.work.map((item) => item.fileName)).toEqual(['invoicetxt.exe', 'r\u00e9sum\u00e9 2024.pdf'])
  })

  it('fails an item whose name has nothing visible left, before recording it', () => {
    const result = plan([{ source: 'a', path: 'task/\u202E\u200B' }])
    expect(result.work).toEqual([])
    expect(result.toRecord).toEqual([])
    expect(result.failures).toEqual([
      expect.objectContaining({ source: 'a', reason: expect.stringContaining('file name') }),
    ])
  })
})
