import { Worker } from 'node:worker_threads'
import type { LocalS3Options, LocalS3Server } from '@upkit/local-s3'

/** Messages between the main thread and local-s3-worker.ts. */
export type ToLocalS3Worker = { type: 'close' }
export type FromLocalS3Worker =
  | { type: 'ready'; endpoint: string; port: number }
  | { type: 'failed'; error: string }
  | { type: 'closed'; error?: string }

/** A stuck close must not keep a SIGTERMed demo alive: past this the thread is terminated. */
const CLOSE_TIMEOUT_MS = 5000

/**
 * The embedded local S3 server on its own worker thread. In-process it cost ~1.7 ms of the API's event loop per
 * small file (SigV4 checks, hashing, fs writes); on a thread it uses the second core and the API's loop stays free.
 * Same options and the same `LocalS3Server` as `startLocalS3`; a start-up error rejects with the server's message.
 *
 * The entry is a small .mjs that loads local-s3-worker.ts through tsx's API: the demo runs on tsx (`node --import
 * tsx` in dev, e2e and the bench, the `tsx` CLI in `pnpm start`), but on Node 20 a worker does not inherit tsx's
 * hooks. The worker inherits the parent's execArgv (so `--cpu-prof` profiles it too).
 */
export function startLocalS3InWorker(options: LocalS3Options): Promise<LocalS3Server> {
  const worker = new Worker(new URL('./local-s3-worker.mjs', import.meta.url), { workerData: options })
  return new Promise<LocalS3Server>((resolve, reject) => {
    let state: 'starting' | 'running' | 'closing' = 'starting'
    const onStartError = (error: Error) => {
      reject(new Error(`The embedded local S3 server did not start: ${error.message}`))
      void worker.terminate()
    }
    const onStartExit = (code: number) =>
      reject(new Error(`The embedded local S3 server's thread exited (code ${code}) before it listened.`))
    worker.once('error', onStartError)
    worker.once('exit', onStartExit)
    worker.once('message', (message: FromLocalS3Worker) => {
      worker.off('error', onStartError)
      worker.off('exit', onStartExit)
      if (message.type !== 'ready') {
        reject(
          new Error(
            `The embedded local S3 server did not start: ${message.type === 'failed' ? message.error : message.type}`,
          ),
        )
        void worker.terminate()
        return
      }
      state = 'running'
      // The bucket gone while the demo runs leaves every upload failing: stop loudly, as an uncaught error in
      // the in-process server would have.
      worker.on('error', (error) => {
        console.error('The embedded local S3 server failed:', error)
        process.exit(1)
      })
      worker.on('exit', (code) => {
        if (state === 'closing') return
        console.error(`The embedded local S3 server's thread exited (code ${code}).`)
        process.exit(1)
      })
      let closing: Promise<void> | undefined
      resolve({
        endpoint: message.endpoint,
        port: message.port,
        close: () => {
          closing ??= closeWorker(worker, () => {
            state = 'closing'
          })
          return closing
        },
      })
    })
  })
}

async function closeWorker(worker: Worker, markClosing: () => void): Promise<void> {
  markClosing()
  const closed = new Promise<string | undefined>((resolve) => {
    const timer = setTimeout(
      () => resolve(`no answer to close within ${CLOSE_TIMEOUT_MS} ms`),
      CLOSE_TIMEOUT_MS,
    )
    worker.on('message', (message: FromLocalS3Worker) => {
      if (message.type !== 'closed') return
      clearTimeout(timer)
      resolve(message.error)
    })
    worker.once('exit', () => {
      clearTimeout(timer)
      resolve(undefined)
    })
  })
  worker.postMessage({ type: 'close' } satisfies ToLocalS3Worker)
  const error = await closed
  // The server has closed its listener and finished its writes: nothing on the thread is worth waiting for.
  await worker.terminate()
  if (error) throw new Error(`The embedded local S3 server did not close cleanly: ${error}`)
}
