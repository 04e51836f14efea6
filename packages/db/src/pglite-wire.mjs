// PostgreSQL's wire protocol on a socket, answered by one PGlite instance: what the PGlite thread serves.
//
// Written here instead of using @electric-sql/pglite-socket, which runs each protocol message on its own (a queued
// promise, a lock, a wasm call and a socket write per message, behind a setImmediate per chunk). node-postgres
// sends a parameterized statement as five messages in one chunk (Parse, Bind, Describe, Execute, Sync), so every
// statement cost five of each on this thread and five wake-ups of the app's. Here all complete messages of a chunk
// go to PGlite in one synchronous call and its whole answer goes back in one write.
//
// Plain JavaScript for the same reason as pglite-worker.mjs: a worker does not get the main thread's tsx hooks.
import { createServer } from 'node:net'

/** The first message's codes (an untyped message: length, then this code). */
const PROTOCOL_3 = 196608
const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104
const CANCEL_REQUEST = 80877102
/** 'X': the client is leaving. Never passed on: PGlite is one session that outlives this connection. */
const TERMINATE = 0x58
/** A Sync message ('S', length 4). */
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4])

/**
 * How long a second connection waits for the current one to leave before it is refused. Default 5 s: a pool's
 * reconnect after a broken connection is let in as soon as the old one is seen closed (milliseconds), while a
 * second pool that would wait forever on a connection that never leaves gets an error it can report.
 */
const WAIT_MS = 5_000

/**
 * Serves `db` on `path` (a Unix socket) to one connection at a time: PGlite is one PostgreSQL session, so two
 * connections would share (and break) each other's transactions. A second connection waits for the first to
 * leave (up to `waitMs`, then it gets a PostgreSQL error); a connection that leaves inside a transaction has it
 * rolled back.
 *
 * @param {import('@electric-sql/pglite').PGlite} db
 * @param {string} path
 * @param {{ waitMs?: number }} [options]
 * @returns {Promise<{ close(): Promise<void> }>}
 */
export async function servePgliteWire(db, path, { waitMs = WAIT_MS } = {}) {
  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set()
  /** @type {import('node:net').Socket | null} */
  let current = null
  /** Connections waiting for the current one to leave, oldest first. */
  /** @type {{ socket: import('node:net').Socket, timer: NodeJS.Timeout }[]} */
  const waiting = []

  const serve = (socket) => {
    current = socket
    const connection = wireConnection(db, socket)
    socket.on('data', (chunk) => connection.receive(chunk))
    socket.once('close', () => {
      connection.left()
      current = null
      const next = waiting.shift()
      if (next) {
        clearTimeout(next.timer)
        serve(next.socket)
        next.socket.resume()
      }
    })
  }

  const server = createServer((socket) => {
    sockets.add(socket)
    socket.setNoDelay(true)
    socket.on('error', () => socket.destroy())
    socket.once('close', () => sockets.delete(socket))
    if (!current) return serve(socket)
    // A pool reconnecting right after its connection broke arrives before this side saw the close: it waits its
    // turn (its bytes stay in the socket meanwhile), and is refused only if the current one does not leave.
    socket.pause()
    const entry = {
      socket,
      timer: setTimeout(() => {
        waiting.splice(waiting.indexOf(entry), 1)
        socket.end(errorMessage('53300', 'The embedded PGlite database takes one connection at a time.'))
      }, waitMs),
    }
    socket.once('close', () => {
      const at = waiting.indexOf(entry)
      if (at >= 0) {
        clearTimeout(entry.timer)
        waiting.splice(at, 1)
      }
    })
    waiting.push(entry)
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => {
      server.off('error', reject)
      resolve(undefined)
    })
  })
  return {
    close: () =>
      new Promise((resolve) => {
        for (const { timer } of waiting.splice(0)) clearTimeout(timer)
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve(undefined))
      }),
  }
}

/**
 * One client's side of the protocol: buffers partial messages, answers the startup handshake, and runs every
 * complete message of a chunk in one call.
 *
 * @param {import('@electric-sql/pglite').PGlite} db
 * @param {import('node:net').Socket} socket
 */
function wireConnection(db, socket) {
  let buffered = Buffer.alloc(0)
  let started = false
  let closed = false

  /** Runs messages through PGlite and writes the answer, if any, in one piece. */
  const run = (messages) => {
    let answer
    try {
      answer = db.execProtocolRawSync(new Uint8Array(messages))
    } catch (error) {
      // PGlite answers SQL errors as protocol messages; a throw is the wasm itself failing: nothing more to say.
      socket.destroy(error instanceof Error ? error : new Error(String(error)))
      closed = true
      return
    }
    if (answer.length > 0) socket.write(answer)
  }

  /** Handles the untyped messages before startup; resolves how many bytes were used (0: need more). */
  const handshake = () => {
    if (buffered.length < 8) return 0
    const length = buffered.readInt32BE(0)
    if (buffered.length < length) return 0
    const code = buffered.readInt32BE(4)
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
      // A Unix socket needs no TLS: 'N' tells the client to go on in the clear.
      socket.write(Buffer.from('N'))
    } else if (code === CANCEL_REQUEST) {
      // Cancelling is not supported (PGlite runs one statement at a time to its end); PostgreSQL ignores bad ones too.
      socket.end()
      closed = true
    } else if (code === PROTOCOL_3) {
      run(buffered.subarray(0, length))
      started = true
    } else {
      socket.end(errorMessage('08P01', `Unsupported protocol or request code ${code}.`))
      closed = true
    }
    return length
  }

  return {
    /** @param {Buffer} chunk */
    receive(chunk) {
      if (closed) return
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
      while (!started && !closed) {
        const used = handshake()
        if (used === 0) return
        buffered = buffered.subarray(used)
      }
      // The complete typed messages at the front (type byte, then a length that counts itself).
      let end = 0
      let terminate = false
      while (buffered.length - end >= 5) {
        if (buffered[end] === TERMINATE) {
          terminate = true
          break
        }
        const length = 1 + buffered.readInt32BE(end + 1)
        if (buffered.length - end < length) break
        end += length
      }
      if (end > 0 && !closed) run(buffered.subarray(0, end))
      buffered = buffered.subarray(end)
      if (terminate && !closed) {
        closed = true
        socket.end()
      }
      // What is left is a partial message; copy it out so the chunk it came in can be freed.
      if (buffered.length > 0 && end > 0) buffered = Buffer.from(buffered)
    },
    /**
     * The client is gone, and PGlite's one session stays for the next: a Sync ends an extended-protocol exchange it
     * left half done (after an error PostgreSQL skips everything until one), and a transaction it left open is
     * rolled back. The answers have nobody to go to.
     */
    left() {
      closed = true
      if (!started) return
      try {
        db.execProtocolRawSync(SYNC)
        if (db.isInTransaction()) db.execProtocolRawSync(simpleQuery('ROLLBACK'))
      } catch {
        // The wasm failed: the next client's first statement will say so.
      }
    },
  }
}

/** A simple-protocol Query message ('Q'). */
function simpleQuery(sql) {
  return typedMessage('Q', `${sql}\0`)
}

/** An ErrorResponse ('E') with severity FATAL, the SQLSTATE `code` and `text`. */
function errorMessage(code, text) {
  return typedMessage('E', `SFATAL\0VFATAL\0C${code}\0M${text}\0\0`)
}

/** A typed protocol message: its type byte, then a length that counts itself, then the body. */
function typedMessage(type, body) {
  const bytes = Buffer.from(body)
  const message = Buffer.alloc(5 + bytes.length)
  message.write(type, 0)
  message.writeInt32BE(4 + bytes.length, 1)
  bytes.copy(message, 5)
  return message
}
