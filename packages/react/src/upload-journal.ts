import type { RouteCall } from '@upkit/core'

/**
 * What the browser remembers of an upload that has not finished, so a reload (or a crash, or a closed laptop)
 * can carry on with it: the server keeps the plan and the bucket keeps the parts; this keeps which file it was.
 */
export interface JournalEntry {
  /** upkit's upload id: `uploads.resume` hands the plan back under it. */
  readonly uploadId: string
  /** The route and input the file was added for: the dropzone of that call lists it. */
  readonly call: RouteCall
  readonly fileName: string
  readonly mimeType: string
  readonly size: number
  readonly lastModified: number
  /** `fingerprintOf` the file: a file picked again must have the same one (and size) before a byte is sent. */
  readonly fingerprint: string
  /** The file itself where the browser lets it be stored (Chromium, Firefox), else `null`: it is asked for again. */
  readonly file: Blob | null
  /** About how many bytes had reached the bucket when last written (the bucket says exactly on resume). */
  readonly bytesSent: number
  /** When the server lets the upload go (`CreatedUpload.expiresAt`, ms): the entry is dropped with it. */
  readonly expiresAt: number
}

/** Where `UpkitUploader` remembers unfinished uploads. `indexedDbJournal()` is the browser's. */
export interface UploadJournal {
  save(entry: JournalEntry): Promise<void>
  /** Records progress; writes at most every `progressWriteMs` per upload (see `indexedDbJournal`). */
  progress(uploadId: string, bytesSent: number): void
  remove(uploadId: string): Promise<void>
  /** Every unexpired entry (expired ones are deleted on the way). */
  list(): Promise<JournalEntry[]>
  /** Calls `listener` when another tab (or this one) changed the journal; returns the unsubscribe. */
  subscribe(listener: () => void): () => void
}

export interface IndexedDbJournalOptions {
  /**
   * Files up to this many bytes are stored with their entry, so a reload resumes without asking for the file:
   * 1 GiB. Browsers copy a stored file into their own storage, so a larger one would take as much disk again
   * (and count against the origin's quota) for as long as it uploads; above it, the person picks the file again
   * and it is checked against the fingerprint.
   */
  readonly keepFilesUpTo?: number
  /**
   * Progress is written at most this often per upload: 1 s. The bucket, not this number, decides what is sent
   * on resume; it only lets the list show how far an unfinished upload got, so it need not cost a write per tick.
   */
  readonly progressWriteMs?: number
  /** The IndexedDB database name: `upkit`. */
  readonly databaseName?: string
}

const STORE = 'uploads'
const CHANNEL = 'upkit-upload-journal'
const GiB = 1024 ** 3

/**
 * An `UploadJournal` in the browser's IndexedDB, or `null` where there is none (server rendering, a private
 * mode without it). Changes are announced on a `BroadcastChannel`, so every open tab's list stays current.
 */
export function indexedDbJournal(options: IndexedDbJournalOptions = {}): UploadJournal | null {
  if (typeof indexedDB === 'undefined') return null
  const keepFilesUpTo = options.keepFilesUpTo ?? GiB
  const progressWriteMs = options.progressWriteMs ?? 1000
  const name = options.databaseName ?? 'upkit'
  let opened: Promise<IDBDatabase> | null = null
  const database = () => {
    opened ??= new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name, 1)
      request.onupgradeneeded = () => {
        request.result.createObjectStore(STORE, { keyPath: 'uploadId' })
      }
      request.onsuccess = () => resolve(request.result)
      request.onerror = () => reject(request.error)
    })
    return opened
  }
  const run = async <T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>) => {
    const db = await database()
    return new Promise<T>((resolve, reject) => {
      const transaction = db.transaction(STORE, mode)
      const request = work(transaction.objectStore(STORE))
      transaction.oncomplete = () => resolve(request.result)
      transaction.onerror = () => reject(transaction.error)
      transaction.onabort = () => reject(transaction.error)
    })
  }
  const channel = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel(CHANNEL)
  const listeners = new Set<() => void>()
  const changed = () => {
    channel?.postMessage('changed')
    for (const listener of listeners) listener()
  }
  channel?.addEventListener('message', () => {
    for (const listener of listeners) listener()
  })

  // Saves and removals of one task (a drop of 200 files creates and ends its uploads in bursts) share one
  // transaction and one change notice: a transaction and a notice each cost every open tab a read of the journal.
  type Write = ({ put: JournalEntry } | { remove: string }) & { ok?: boolean }
  let batch: { writes: Write[]; done: Promise<void> } | null = null
  const writeBatch = (writes: readonly Write[]) =>
    run('readwrite', (store) => {
      let last = store.count() as IDBRequest
      for (const w of writes) last = 'put' in w ? store.put(w.put) : store.delete(w.remove)
      return last
    })
  /** Resolves whether `one` was written, once its batch has ended. */
  const write = async (one: Write): Promise<boolean> => {
    if (!batch) {
      const writes: Write[] = []
      const done = new Promise<void>((resolve) => setTimeout(resolve, 0)).then(async () => {
        batch = null
        try {
          await writeBatch(writes)
          for (const w of writes) w.ok = true
        } catch {
          // One refused write (out of quota for a stored file) aborts them all: each is tried on its own.
          await Promise.all(
            writes.map((w) =>
              writeBatch([w]).then(
                () => {
                  w.ok = true
                },
                () => {
                  w.ok = false
                },
              ),
            ),
          )
        }
        changed()
      })
      batch = { writes, done }
    }
    batch.writes.push(one)
    await batch.done
    return one.ok === true
  }

  const lastWrite = new Map<string, number>()
  return {
    async save(entry) {
      const stored =
        entry.file !== null && entry.file.size <= keepFilesUpTo ? entry : { ...entry, file: null }
      if (await write({ put: stored })) return
      // Out of quota (or a browser that cannot store files): remember the upload without its file.
      if (stored.file === null) throw new Error(`The journal could not remember "${entry.fileName}".`)
      await run('readwrite', (store) => store.put({ ...stored, file: null }))
      changed()
    },
    progress(uploadId, bytesSent) {
      const now = Date.now()
      if (now - (lastWrite.get(uploadId) ?? 0) < progressWriteMs) return
      lastWrite.set(uploadId, now)
      void (async () => {
        const db = await database()
        const transaction = db.transaction(STORE, 'readwrite')
        const store = transaction.objectStore(STORE)
        const read = store.get(uploadId)
        read.onsuccess = () => {
          const entry = read.result as JournalEntry | undefined
          if (entry && entry.bytesSent < bytesSent) store.put({ ...entry, bytesSent })
        }
      })().catch(() => {})
    },
    async remove(uploadId) {
      lastWrite.delete(uploadId)
      await write({ remove: uploadId })
    },
    async list() {
      const entries = await run('readonly', (store) => store.getAll() as IDBRequest<JournalEntry[]>)
      const now = Date.now()
      const expired = entries.filter((entry) => entry.expiresAt <= now)
      for (const entry of expired) await run('readwrite', (store) => store.delete(entry.uploadId))
      return entries.filter((entry) => entry.expiresAt > now)
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}

/** Bytes read from each end of a file for its fingerprint: 64 KiB, a few ms to hash even for a huge file. */
const FINGERPRINT_EDGE = 64 * 1024

/**
 * A fingerprint of a file: SHA-256 of its size, its first and its last 64 KiB. Not proof that two files are
 * equal, but a file picked by mistake (another version of a document, another photo of the same size) differs
 * in its header or its end; the server checks size and type again on confirm.
 */
export async function fingerprintOf(blob: Blob): Promise<string> {
  const sizeBytes = new TextEncoder().encode(`${blob.size}:`)
  // Head and tail together are the whole of a file up to twice the edge: one read of it gives the same bytes.
  const parts =
    blob.size <= 2 * FINGERPRINT_EDGE
      ? [sizeBytes, new Uint8Array(await blob.arrayBuffer())]
      : [
          sizeBytes,
          new Uint8Array(await blob.slice(0, FINGERPRINT_EDGE).arrayBuffer()),
          new Uint8Array(await blob.slice(blob.size - FINGERPRINT_EDGE).arrayBuffer()),
        ]
  const joined = new Uint8Array(parts.reduce((total, part) => total + part.length, 0))
  let offset = 0
  for (const part of parts) {
    joined.set(part, offset)
    offset += part.length
  }
  // `crypto.subtle` exists only in secure contexts (https, localhost); an app served over plain http on a LAN
  // still gets resume, with a non-cryptographic hash that tells mistaken files apart just as well.
  if (typeof crypto === 'undefined' || !crypto.subtle) return `fnv1a64:${fnv1a64(joined)}`
  const digest = await crypto.subtle.digest('SHA-256', joined)
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('')
}

/** FNV-1a, 64 bits, hex. */
export function fnv1a64(bytes: Uint8Array): string {
  let hash = 0xcbf29ce484222325n
  for (const byte of bytes) {
    hash ^= BigInt(byte)
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn
  }
  return hash.toString(16).padStart(16, '0')
}

/** Why `file` is not the one `entry` was started with, or `null` when it is. */
export async function mismatchOf(entry: JournalEntry, file: Blob): Promise<string | null> {
  if (file.size !== entry.size)
    return `This is not "${entry.fileName}": it has ${file.size} bytes, the upload was started with ${entry.size}.`
  if ((await fingerprintOf(file)) !== entry.fingerprint)
    return `This is not "${entry.fileName}": its contents differ from the file the upload was started with.`
  return null
}

/**
 * A route call's identity, for finding a dropzone's entries: the route and its input with keys sorted, since an
 * input built in another order (or after a reload) is the same call.
 */
export function callKey(call: RouteCall): string {
  return JSON.stringify([call.route, sortKeys(call.input)])
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  )
}
