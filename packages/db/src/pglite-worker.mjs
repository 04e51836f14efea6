// The embedded PGlite database on its own worker thread, serving the PostgreSQL wire protocol on a Unix socket, so
// the app's event loop only sends queries and reads answers while the database's own work (the wasm PostgreSQL)
// runs on another core. Plain JavaScript: a worker does not get the main thread's tsx hooks on Node 20, and the
// published package ships this file as it is.
import { parentPort, workerData } from 'node:worker_threads'
import { PGlite } from '@electric-sql/pglite'
import { servePgliteWire } from './pglite-wire.mjs'

/** @type {{ dataDir: string, socketPath: string }} */
const { dataDir, socketPath } = workerData
let db
let server
try {
  db = await PGlite.create({ dataDir })
  // One connection at a time (PGlite is one PostgreSQL session); the app's pool has one too, its queries queue there.
  server = await servePgliteWire(db, socketPath)
  parentPort.postMessage({ type: 'ready' })
} catch (error) {
  await db?.close().catch(() => {})
  parentPort.postMessage({ type: 'failed', error: error instanceof Error ? error.message : String(error) })
  process.exit(1)
}

parentPort.on('message', async (message) => {
  if (message?.type !== 'close') return
  let error
  try {
    await server.close()
    await db.close()
  } catch (caught) {
    error = caught instanceof Error ? caught.message : String(caught)
  }
  parentPort.postMessage({ type: 'closed', ...(error ? { error } : {}) })
  parentPort.close()
})
