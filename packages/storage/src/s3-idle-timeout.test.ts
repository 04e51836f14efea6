import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, expect, it } from 'vitest'
import { s3Presets } from './presets'
import { createS3BucketStorage } from './s3-bucket-storage'

const credentials = { accessKeyId: 'idle-key', secretAccessKey: 'idle-secret' }

let server: Server | null = null
afterEach(async () => {
  // Unanswered requests would keep close() waiting.
  server?.closeAllConnections()
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = null
})

/** A bucket that leaves the first `silent` requests unanswered (read, never answered), then says 404. */
async function bucketIgnoring(silent: number) {
  let requests = 0
  server = createServer((_request, response) => {
    requests++
    if (requests <= silent) return
    response.writeHead(404, { 'content-type': 'application/xml' }).end()
  })
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const storage = createS3BucketStorage({
    ...s3Presets.local({ endpoint: `http://127.0.0.1:${port}`, bucket: 'b', credentials }),
    idleTimeoutMs: 300,
  })
  return { storage, requests: () => requests }
}

it('an SDK request the bucket never answers is abandoned and sent again', async () => {
  const bucket = await bucketIgnoring(1)
  expect(await bucket.storage.head('some/key')).toBeNull()
  expect(bucket.requests()).toBe(2)
})

it('gives up with a TimeoutError when no try is answered, instead of waiting forever', async () => {
  const bucket = await bucketIgnoring(Number.POSITIVE_INFINITY)
  await expect(bucket.storage.head('some/key')).rejects.toMatchObject({ name: 'TimeoutError' })
})
