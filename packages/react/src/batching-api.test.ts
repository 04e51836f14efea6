import {
  type CreatedUpload,
  type RouteCall,
  type UploadApi,
  type UploadRecord,
  upkitCodeOf,
} from '@upkit/core'
import { describe, expect, it } from 'vitest'
import { batchingApi } from './batching-api'

function record(id: string): UploadRecord {
  return {
    id,
    route: 'attachment',
    status: 'confirmed',
    fileName: `${id}.txt`,
    mimeType: 'text/plain',
    size: 1,
    createdAt: new Date(0).toISOString(),
    confirmedAt: new Date(0).toISOString(),
    thumbnailUrl: null,
    uploadedBy: null,
  }
}

function created(id: string): CreatedUpload {
  return {
    upload: { ...record(id), status: 'pending', confirmedAt: null },
    key: `key-${id}`,
    transfer: { type: 'single', size: 1 },
    expiresAt: new Date(0).toISOString(),
    s3UploadId: null,
    signedPut: null,
    signedParts: [],
  }
}

/** An api recording its calls; files named `refuse*` are refused per file, `confirm` of `late` waits. */
function fakeApi() {
  const calls: { name: string; count: number }[] = []
  let releaseLate: () => void = () => {}
  const late = new Promise<void>((resolve) => {
    releaseLate = resolve
  })
  const api = {
    async create(input) {
      calls.push({ name: 'create', count: 1 })
      return created(input.fileName)
    },
    async createMany(input) {
      calls.push({ name: 'createMany', count: input.files.length })
      return input.files.map((file) =>
        file.fileName.startsWith('refuse')
          ? { ok: false as const, error: { code: 'FILE_TOO_LARGE' as const, message: 'too large' } }
          : { ok: true as const, created: created(file.fileName) },
      )
    },
    async confirm(input) {
      calls.push({ name: 'confirm', count: 1 })
      if (input.uploadId === 'late') await late
      return record(input.uploadId)
    },
    async confirmMany(input) {
      calls.push({ name: 'confirmMany', count: input.uploads.length })
      return input.uploads.map((upload) =>
        upload.uploadId.startsWith('refuse')
          ? { ok: false as const, error: { code: 'OBJECT_MISSING' as const, message: 'missing' } }
          : { ok: true as const, upload: record(upload.uploadId) },
      )
    },
  } as Partial<UploadApi<RouteCall>> as UploadApi<RouteCall>
  return { api, calls, releaseLate }
}

const file = (fileName: string, input: unknown = { taskId: 't1' }) => ({
  route: 'attachment',
  input,
  fileName,
  size: 1,
  mimeType: 'text/plain',
})

describe('batchingApi', () => {
  it('creates files added together in one call per route and input, each getting its own answer', async () => {
    const fake = fakeApi()
    const api = batchingApi(() => fake.api)
    const results = await Promise.allSettled([
      api.create(file('a')),
      api.create(file('refuse-b')),
      api.create(file('c')),
      api.create(file('d', { taskId: 't2' })),
    ])
    expect(fake.calls).toEqual([
      { name: 'createMany', count: 3 },
      { name: 'create', count: 1 },
    ])
    expect(
      results.map((r) => (r.status === 'fulfilled' ? r.value.upload.id : upkitCodeOf(r.reason))),
    ).toEqual(['a', 'FILE_TOO_LARGE', 'c', 'd'])
  })

  it('confirms the first file at once and those finishing meanwhile together', async () => {
    const fake = fakeApi()
    const api = batchingApi(() => fake.api)
    const first = api.confirm({ uploadId: 'late' })
    const second = api.confirm({ uploadId: 'late' })
    // Two confirms in flight: the next ones wait for one of them, then go in one call.
    const waiting = ['x', 'refuse-y', 'z'].map((uploadId) => api.confirm({ uploadId }))
    await Promise.resolve()
    expect(fake.calls).toEqual([
      { name: 'confirm', count: 1 },
      { name: 'confirm', count: 1 },
    ])
    fake.releaseLate()
    await Promise.all([first, second])
    const results = await Promise.allSettled(waiting)
    expect(fake.calls.slice(2)).toEqual([{ name: 'confirmMany', count: 3 }])
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value.id : upkitCodeOf(r.reason)))).toEqual([
      'x',
      'OBJECT_MISSING',
      'z',
    ])
  })

  it('uses the single calls when the server has no batch calls', async () => {
    const fake = fakeApi()
    const { createMany: _c, confirmMany: _m, ...single } = fake.api
    const api = batchingApi(() => single as UploadApi<RouteCall>)
    await Promise.all([api.create(file('a')), api.create(file('b'))])
    expect(fake.calls).toEqual([
      { name: 'create', count: 1 },
      { name: 'create', count: 1 },
    ])
  })

  it('a failed batch call fails each of its files (each retries on its own)', async () => {
    const fake = fakeApi()
    fake.api.createMany = async () => {
      throw new TypeError('fetch failed')
    }
    const api = batchingApi(() => fake.api)
    const results = await Promise.allSettled([api.create(file('a')), api.create(file('b'))])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
  })
})
