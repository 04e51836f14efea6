import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import type { PoolConfig } from 'pg'

/** Messages from pglite-worker.mjs. */
type FromPgliteWorker =
  | { type: 'ready' }
  | { type: 'failed'; error: string }
  | { type: 'closed'; error?: string }

/** A stuck close must not keep a stopping app alive: past this the thread is terminated. */
const CLOSE_TIMEOUT_MS = 10_000
/** The port number only names the socket file (`.s.PGSQL.<port>`), as libpq and node-postgres expect it. */
const SOCKET_PORT = 5432

export interface PgliteThread {
  /** How node-postgres reaches the thread: one connection, PGlite being one PostgreSQL session. */
  readonly pool: PoolConfig & { max: 1 }
  close(): Promise<void>
}

/**
 * The embedded PGlite database on a worker thread, serving PostgreSQL's wire protocol on a Unix socket in a fresh
 * private folder. In-process, PGlite's wasm PostgreSQL ran every statement on the app's event loop (~40% of the
 * demo's CPU per small upload); on a thread the app only sends and reads messages and the database uses the other
 * core. The app then talks to it as to any PostgreSQL, through `@prisma/adapter-pg`.
 */
export async function startPgliteThread(dataDir: string): Promise<PgliteThread> {
  const socketDir = await mkdtemp(join(tmpdir(), 'upkit-pglite-'))
  const worker = new Worker(new URL('./pglite-worker.mjs', import.meta.url), {
    workerData: { dataDir, socketPath: join(socketDir, `.s.PGSQL.${SOCKET_PORT}`) },
  })
  try {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error)
      const onExit = (code: number) =>
        reject(new Error(`its thread exited (code ${code}) before it listened`))
      worker.once('error', onError)
      worker.once('exit', onExit)
      worker.once('message', (message: FromPgliteWorker) => {
        worker.off('error', onError)
        worker.off('exit', onExit)
        if (message.type === 'ready') resolve()
        else reject(new Error(message.type === 'failed' ? message.error : message.type))
      })
    })
  } catch (error) {
    await worker.terminate()
    await rm(socketDir, { recursive: true, force: true })
    throw new Error(`The embedded PGlite database at ${dataDir} did not start: ${(error as Error).message}`, {
      cause: error,
    })
  }
  let closing = false
  // The database gone while the app runs leaves every request failing: stop loudly, as an uncaught error of an
  // in-process PGlite would have.
  worker.on('error', (error) => {
    console.error('The embedded PGlite database failed:', error)
    process.exit(1)
  })
  worker.on('exit', (code) => {
    if (closing) return
    console.error(`The embedded PGlite database's thread exited (code ${code}).`)
    process.exit(1)
  })
  let closed: Promise<void> | undefined
  return {
    pool: { host: socketDir, port: SOCKET_PORT, user: 'postgres', database: 'postgres', max: 1 },
    close: () => {
      closed ??= (async () => {
        closing = true
        const answer = new Promise<string | undefined>((resolve) => {
          const timer = setTimeout(() => resolve(`no answer within ${CLOSE_TIMEOUT_MS} ms`), CLOSE_TIMEOUT_MS)
          worker.once('message', (message: FromPgliteWorker) => {
            clearTimeout(timer)
            resolve(message.type === 'closed' ? message.error : undefined)
          })
          worker.once('exit', () => {
            clearTimeout(timer)
            resolve(undefined)
          })
        })
        worker.postMessage({ type: 'close' })
        const error = await answer
        await worker.terminate()
        await rm(socketDir, { recursive: true, force: true })
        if (error) throw new Error(`Closing the embedded PGlite database failed: ${error}`)
      })()
      return closed
    },
  }
}
