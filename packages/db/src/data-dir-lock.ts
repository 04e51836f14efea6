import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { open, readFile, unlink } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'

// PGlite has no postmaster.pid: two processes opening one data folder both "work" and then overwrite each
// other's pages. Nothing in PGlite stops that, so we hold a lock file for as long as a Database is open.

export const lockFileName = 'upkit.lock'

/** Thrown by `createDatabase` when another live process already has the PGlite data folder open. */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError'
  readonly dataDir: string
  readonly pid: number

  constructor(dataDir: string, owner: LockOwner) {
    const where = owner.hostname === hostname() ? '' : ` on host ${owner.hostname}`
    super(
      `The PGlite data folder ${dataDir} is already in use by process ${owner.pid}${where} (since ${owner.startedAt}). ` +
        'PGlite allows one process per folder; two would silently corrupt it. Stop that process, or use another ' +
        `dataDir. If no such process exists, delete ${join(dataDir, lockFileName)}.`,
    )
    this.dataDir = dataDir
    this.pid = owner.pid
  }
}

interface LockOwner {
  pid: number
  /** Kernel start time of `pid` (Linux), so a reused pid — e.g. pid 1 in every container — is not mistaken for the owner. */
  processStart: string | null
  hostname: string
  startedAt: string
  token: string
}

export interface DataDirLock {
  release(): Promise<void>
}

export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const path = join(dataDir, lockFileName)
  const owner: LockOwner = {
    pid: process.pid,
    processStart: processStartTime(process.pid),
    hostname: hostname(),
    startedAt: new Date().toISOString(),
    token: randomUUID(),
  }
  const content = `${JSON.stringify(owner)}\n`

  // A few rounds only: each round either creates the file, reports a live owner, or removes one stale file.
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const handle = await open(path, 'wx')
      try {
        await handle.writeFile(content)
        await handle.sync()
      } finally {
        await handle.close()
      }
      return { release: () => releaseLock(path, owner.token) }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }

    const existing = await readFile(path, 'utf8').catch(() => null)
    if (existing === null) continue // released between our open and our read
    const current = parseOwner(existing)
    if (current === null) {
      // A lock file is written in one small write right after it is created, so an unreadable one is either
      // being written this instant or left by a crash mid-write. Wait a moment before calling it stale.
      await new Promise((resolve) => setTimeout(resolve, 100))
      if ((await readFile(path, 'utf8').catch(() => null)) !== existing) continue
    } else if (isAlive(current)) {
      throw new DataDirLockedError(dataDir, current)
    }
    // Stale: remove it only if it is still the file we judged, so we never delete a lock that another
    // process has just taken over.
    if ((await readFile(path, 'utf8').catch(() => null)) === existing) {
      await unlink(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error
      })
    }
  }
  throw new Error(`Could not take the lock on the PGlite data folder ${dataDir} (${path} keeps changing).`)
}

async function releaseLock(path: string, token: string): Promise<void> {
  const existing = await readFile(path, 'utf8').catch(() => null)
  // Someone who judged us dead may have replaced the file; theirs is not ours to remove.
  if (existing === null || parseOwner(existing)?.token !== token) return
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error
  })
}

function parseOwner(text: string): LockOwner | null {
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value !== 'object' || value === null) return null
    const { pid, processStart, hostname, startedAt, token } = value as Record<string, unknown>
    if (typeof pid !== 'number' || typeof hostname !== 'string' || typeof token !== 'string') return null
    return {
      pid,
      processStart: typeof processStart === 'string' ? processStart : null,
      hostname,
      startedAt: typeof startedAt === 'string' ? startedAt : 'unknown',
      token,
    }
  } catch {
    return null
  }
}

function isAlive(owner: LockOwner): boolean {
  // Another host's pids mean nothing here (a shared volume); assume it is alive rather than risk corruption.
  if (owner.hostname !== hostname()) return true
  try {
    process.kill(owner.pid, 0)
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  if (owner.processStart === null) return true
  const start = processStartTime(owner.pid)
  return start === null || start === owner.processStart
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); null where /proc is unavailable. */
function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) is in parentheses and may contain spaces, so count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return fields[19] ?? null
  } catch {
    return null
  }
}
