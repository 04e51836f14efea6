import { lstatSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

export interface ScannedFolder {
  /** Regular files by path relative to the root (`/`-separated), with their size in bytes. */
  files: Map<string, number>
  /** Symbolic links (to files or folders), never followed: their target may be anywhere on the machine. */
  symlinks: Set<string>
  /** Sockets, FIFOs, devices: never read. */
  special: Set<string>
}

/**
 * Lists the uploads folder without following any symbolic link. Rows are later resolved against this listing
 * rather than the live file system, so a row can only ever reach a file that was found by walking real folders.
 */
export function scanFolder(root: string): ScannedFolder {
  const result: ScannedFolder = { files: new Map(), symlinks: new Set(), special: new Set() }
  // Blocking calls on purpose: nothing else runs during the scan, and for tens of thousands of entries the
  // promise API's per-call overhead is most of the cost.
  const walk = (relative: string): void => {
    const entries = readdirSync(relative === '' ? root : join(root, relative), { withFileTypes: true })
    for (const entry of entries) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`
      if (entry.isSymbolicLink()) result.symlinks.add(path)
      else if (entry.isDirectory()) walk(path)
      else if (entry.isFile()) {
        const stat = lstatSync(join(root, path))
        if (stat.isFile()) result.files.set(path, stat.size)
        else if (stat.isSymbolicLink()) result.symlinks.add(path)
        else result.special.add(path)
      } else result.special.add(path)
    }
  }
  walk('')
  return result
}

/** Whether `path` lies inside (or is) one of the symbolic links found by the scan. */
export function throughSymlink(path: string, symlinks: ReadonlySet<string>): boolean {
  if (symlinks.has(path)) return true
  let index = path.indexOf('/')
  while (index !== -1) {
    if (symlinks.has(path.slice(0, index))) return true
    index = path.indexOf('/', index + 1)
  }
  return false
}
