import { describe, expect, it } from 'vitest'
import { callKey, fingerprintOf, fnv1a64, type JournalEntry, mismatchOf } from './upload-journal'

const bytes = (length: number, seed = 1) =>
  new Uint8Array(Array.from({ length }, (_, i) => (i * 31 + seed) % 251))

function entryFor(fingerprint: string, size: number): JournalEntry {
  return {
    uploadId: 'u1',
    call: { route: 'attachment', input: { taskId: 't1' } },
    fileName: 'video.mov',
    mimeType: 'video/quicktime',
    size,
    lastModified: 0,
    fingerprint,
    file: null,
    bytesSent: 0,
    expiresAt: Date.now() + 60_000,
  }
}

describe('upload journal', () => {
  it('tells the file an upload was started with from another of the same size, by its head or its tail', async () => {
    const original = bytes(300_000)
    const entry = entryFor(await fingerprintOf(new Blob([original])), original.length)
    expect(await mismatchOf(entry, new Blob([original]))).toBeNull()
    for (const index of [0, original.length - 1]) {
      const other = original.slice()
      other[index] = (other[index] ?? 0) ^ 0xff
      expect(await mismatchOf(entry, new Blob([other]))).toMatch(/contents differ/)
    }
    expect(await mismatchOf(entry, new Blob([original.slice(1)]))).toMatch(/299999 bytes/)
  })

  it('fingerprints size, head and tail as before, reading a file of up to 128 KiB once', async () => {
    const edge = 64 * 1024
    // Journal entries outlive a deploy: the fingerprint of a file must not change with the version that reads it.
    const reference = async (data: Uint8Array) => {
      const head = data.slice(0, edge)
      const tail = data.slice(Math.max(edge, data.length - edge))
      const joined = new Uint8Array([...new TextEncoder().encode(`${data.length}:`), ...head, ...tail])
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', joined))
      return [...digest].map((byte) => byte.toString(16).padStart(2, '0')).join('')
    }
    class CountingBlob extends Blob {
      reads = 0
      slices = 0
      override arrayBuffer() {
        this.reads++
        return super.arrayBuffer()
      }
      override slice(start?: number, end?: number, contentType?: string) {
        this.slices++
        return super.slice(start, end, contentType)
      }
    }
    for (const size of [0, 1, edge - 1, edge, edge + 1, 2 * edge, 2 * edge + 1, 3 * edge + 7]) {
      const data = bytes(size, size % 7)
      const blob = new CountingBlob([data])
      expect(await fingerprintOf(blob), `${size} bytes`).toBe(await reference(data))
      expect({ size, reads: blob.reads + blob.slices }).toEqual({ size, reads: size <= 2 * edge ? 1 : 2 })
    }
  })

  it('FNV-1a 64 matches its reference values (the fallback fingerprint outside secure contexts)', () => {
    expect(fnv1a64(new Uint8Array())).toBe('cbf29ce484222325')
    expect(fnv1a64(new TextEncoder().encode('a'))).toBe('af63dc4c8601ec8c')
    expect(fnv1a64(new TextEncoder().encode('foobar'))).toBe('85944171f73967e8')
  })

  it('names a route call the same whatever order its input was built in', () => {
    expect(callKey({ route: 'r', input: { a: 1, b: { c: 2, d: 3 } } })).toBe(
      callKey({ route: 'r', input: { b: { d: 3, c: 2 }, a: 1 } }),
    )
    expect(callKey({ route: 'r', input: { a: 1 } })).not.toBe(callKey({ route: 's', input: { a: 1 } }))
  })
})
