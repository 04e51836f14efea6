// The embedded PGlite database on its own worker thread, serving the PostgreSQL wire protocol on a Unix socket, so
// the app's event loop only sends queries and reads answers while the database's own work (the wasm PostgreSQL)
// runs on another core. Plain JavaScript: a worker does not get the main thread's tsx hooks on Node 20, and the
// published package ships this file as it is.
import { parentPort, workerData } from 'node:worker_threads'
import { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

/** @type {{ dataDir: string, socketPath: string }} */
const { dataDir, socketPath } = workerData
let db
let server
try {
  db = await PGlite.create({ dataDir })
  // One connection: PGlite is one PostgreSQL session, so statements of two connections would share (and break)
  // each other's transactions. The app's pool has one connection too; its queries queue there.
  server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: 1 })
  await server.start()
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
    await server.stop()
    await db.close()
  } catch (caught) {
    error = caught instanceof Error ? caught.message : String(caught)
  }
  parentPort.postMessage({ type: 'closed', ...(error ? { error } : {}) })
  parentPort.close()
})
