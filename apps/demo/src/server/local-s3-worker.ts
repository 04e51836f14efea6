/**
 * Worker-thread entry of the embedded local S3 server (started by `startLocalS3InWorker`): the bucket's request
 * handling, SigV4 checks and file writes run on this thread's event loop, not on the API's.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { type LocalS3Options, type LocalS3Server, startLocalS3 } from '@upkit/local-s3'
import type { FromLocalS3Worker, ToLocalS3Worker } from './local-s3-thread'

const port = parentPort
if (!port)
  throw new Error('local-s3-worker.ts runs as a worker thread (see local-s3-thread.ts), not on its own.')

let server: LocalS3Server | undefined
const send = (message: FromLocalS3Worker) => port.postMessage(message)

port.on('message', (message: ToLocalS3Worker) => {
  if (message.type !== 'close') return
  const closed = server ? server.close() : Promise.resolve()
  closed.then(
    () => send({ type: 'closed' }),
    (error: unknown) => send({ type: 'closed', error: describe(error) }),
  )
})

try {
  server = await startLocalS3(workerData as LocalS3Options)
  send({ type: 'ready', endpoint: server.endpoint, port: server.port })
} catch (error) {
  // A message, not a throw: the main thread reports it as the demo's start-up error (e.g. the port is taken).
  send({ type: 'failed', error: describe(error) })
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
