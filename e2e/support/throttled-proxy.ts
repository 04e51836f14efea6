import { createConnection, createServer, type Socket } from 'node:net'

export interface ThrottledProxy {
  readonly url: string
  close(): Promise<void>
}

/**
 * A TCP proxy to `target` that caps what clients send, across all connections together, at `bytesPerSecond`.
 * It stands in for Chromium's network emulation in engines that have none (Firefox over BiDi, WebKit over
 * WebDriver), so a journey can act while an upload is in flight. Answers flow back unthrottled. When the target is
 * down, connections are reset, which is what a browser sees of a storage outage.
 */
export async function startThrottledProxy(options: {
  target: { host: string; port: number }
  bytesPerSecond: number
}): Promise<ThrottledProxy> {
  const sockets = new Set<Socket>()
  // The moment the shared budget is next free: each chunk books its share of time after the previous one.
  let nextFree = 0
  const server = createServer((client) => {
    const upstream = createConnection(options.target)
    sockets.add(client)
    sockets.add(upstream)
    const drop = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', drop)
    upstream.on('error', drop)
    client.on('close', drop)
    upstream.on('close', drop)
    upstream.pipe(client)
    client.on('data', (chunk: Buffer) => {
      const now = Date.now()
      const start = Math.max(now, nextFree)
      nextFree = start + (chunk.length / options.bytesPerSecond) * 1000
      upstream.write(chunk)
      client.pause()
      setTimeout(() => client.resume(), nextFree - now)
    })
    client.on('end', () => upstream.end())
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  if (typeof address !== 'object' || !address) throw new Error('the proxy has no port')
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
