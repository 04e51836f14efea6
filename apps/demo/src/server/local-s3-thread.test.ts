import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startLocalS3InWorker } from './local-s3-thread'

const dirs: string[] = []
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'upkit-s3-worker-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})
const credentials = { accessKeyId: 'upkit-local', secretAccessKey: 'worker-test-secret' }

describe('startLocalS3InWorker', () => {
  it('serves the bucket from a worker thread and frees the port on close', async () => {
    const server = await startLocalS3InWorker({ dir: tempDir(), ...credentials })
    // An unsigned request reaches the server's SigV4 check: the thread answers, and refuses it.
    expect((await fetch(`${server.endpoint}/upkit`)).status).toBe(403)
    await server.close()
    await expect(fetch(`${server.endpoint}/upkit`)).rejects.toThrow()
  })

  it('rejects with the server start-up error (port taken) instead of hanging', async () => {
    const blocker: Server = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const address = blocker.address()
    const port = typeof address === 'object' && address ? address.port : 0
    try {
      await expect(startLocalS3InWorker({ dir: tempDir(), port, ...credentials })).rejects.toThrow(
        /EADDRINUSE/,
      )
    } finally {
      blocker.close()
    }
  })
})
