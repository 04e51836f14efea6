import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createStartReader } from './read-start'

let server: Server | null = null
afterEach(async () => {
  // A test's unanswered requests would keep close() waiting.
  server?.closeAllConnections()
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = null
})

/**
 * A store that drops a kept-alive socket when the next request arrives on it, as a store whose idle timeout
 * fires just then does: the request fails with ECONNRESET before any answer.
 */
async function storeDroppingReusedSockets(): Promise<{ url: string; requests: () => number }> {
  let requests = 0
  const served = new WeakSet<object>()
  server = createServer((request, response) => {
    requests++
    if (served.has(request.socket)) {
      request.socket.destroy()
      return
    }
    served.add(request.socket)
    response.writeHead(206, {
      'content-range': 'bytes 0-3/10',
      'content-type': 'image/png',
      etag: '"abc"',
      connection: 'keep-alive',
    })
    response.end(Buffer.from([0x89, 0x50, 0x4e, 0x47]))
  })
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/bucket/key`, requests: () => requests }
}

describe('readStart', () => {
  it('sends the GET again when the store reset a kept-alive socket before answering', async () => {
    const store = await storeDroppingReusedSockets()
    const readStart = createStartReader({ presign: async () => store.url, head: async () => null })
    const first = await readStart('key', 4)
    // The same agent reuses the first socket, which the store now drops: the read still succeeds.
    const second = await readStart('key', 4)
    expect(second).toEqual(first)
    expect(second?.head).toMatchObject({ size: 10, contentType: 'image/png', etag: '"abc"' })
    expect(store.requests()).toBe(3)
  })

  it('sends the GET again when the bucket never answers it, instead of waiting forever', async () => {
    let requests = 0
    server = createServer((_request, response) => {
      requests++
      // The first request is read and left unanswered, as a bucket that dropped it silently.
      if (requests === 1) return
      response.writeHead(206, { 'content-range': 'bytes 0-3/10', 'content-type': 'image/png', etag: '"abc"' })
      response.end(Buffer.from([0x89, 0x50, 0x4e, 0x47]))
    })
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const readStart = createStartReader({
      presign: async () => `http://127.0.0.1:${port}/bucket/key`,
      head: async () => null,
      idleTimeoutMs: 200,
    })
    const read = await readStart('key', 4)
    expect(read?.head).toMatchObject({ size: 10, contentType: 'image/png' })
    expect(requests).toBe(2)
  })

  it('gives up with ETIMEDOUT when the bucket answers none of its tries', async () => {
    server = createServer(() => {})
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const readStart = createStartReader({
      presign: async () => `http://127.0.0.1:${port}/bucket/key`,
      head: async () => null,
      idleTimeoutMs: 100,
    })
    await expect(readStart('key', 4)).rejects.toMatchObject({ code: 'ETIMEDOUT' })
  })
})
