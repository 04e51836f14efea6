import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { LegacyReference } from './legacy-source'

// A legacy app's ./uploads folder and the references that point into it, built the same way every time (ids and
// bytes come from `seed`), so two fixtures can be migrated differently and their end states compared. The routes
// named here are those of `test-support/legacy-table-source.ts`: `attachment` (any type), `commentImage` (images)
// and `logo` (inline).

export interface LegacyFixtureOptions {
  /** Parent folder; the uploads folder is `<dir>/uploads`. */
  dir: string
  /** Ordinary task files (attachments and comment images). Default 480. */
  files?: number
  /** Size in bytes of ordinary file `index` (at least 1: routes refuse empty files). Default: up to ~48 KiB. */
  sizeOf?: (index: number) => number
  /** Adds the 30 MiB (single PUT, streamed) and 33 MiB (multipart) files. Default true. */
  bigFiles?: boolean
  /**
   * Adds the awkward cases: symlink, `..` and absolute rows, missing file, orphans, bad logos, files the routes
   * refuse (empty, HTML as an image). Default true.
   */
  edgeCases?: boolean
  seed?: number
}

export interface LegacyFixture {
  uploadsDir: string
  companyIds: string[]
  taskIds: string[]
  /** The company of each task. */
  taskCompany: Map<string, string>
  /** The legacy rows: task files first, then one logo reference per company that has a logo path. */
  references: LegacyReference[]
  /** What a full migration must report. */
  expected: {
    /** References (task files + logos) that migrate. */
    migrated: number
    migratedBytes: number
    logos: number
    taskFiles: number
    /** Bucket references that reach the copy and fail there (refused by their route's policy). */
    refusedFiles: number
    missing: string[]
    orphans: string[]
    symlinks: string[]
    /** Sources that must fail. */
    failures: string[]
  }
}

const MiB = 1024 * 1024

/** Deterministic lowercase UUID (v4-shaped) from a namespace and a number. */
export function fixtureUuid(namespace: number, n: number): string {
  const hex = (n >>> 0).toString(16).padStart(12, '0')
  return `${namespace.toString(16).padStart(8, '0')}-0000-4000-8000-${hex}`
}

/** Fast seeded bytes (xorshift32): tens of MiB in milliseconds, identical for the same seed. */
export function seededBytes(size: number, seed: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(size / 4))
  let x = seed >>> 0 || 0x9e3779b9
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    words[i] = x >>> 0
  }
  return new Uint8Array(words.buffer, 0, size)
}

/** A PNG header `readImageInfo` accepts (signature + IHDR), padded with bytes. */
export function pngBytes(width: number, height: number, extra = 64): Uint8Array {
  const bytes = new Uint8Array(33 + extra)
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])
  const view = new DataView(bytes.buffer)
  view.setUint32(16, width)
  view.setUint32(20, height)
  bytes.set([8, 6, 0, 0, 0], 24)
  return bytes
}

const NAMES = [
  'report.pdf',
  'photo.png',
  'notes.txt',
  'scan 2019 (final).jpg',
  'café menu – été.csv',
  '文件 附件.bin',
  'data.xlsx',
  'clip.mp4',
  'archive.zip',
  'no-extension',
]

function contentFor(name: string, size: number, seed: number): Uint8Array {
  const bytes = seededBytes(size, seed)
  if (size === 0) return bytes
  const header = (() => {
    if (name.endsWith('.pdf')) return new TextEncoder().encode('%PDF-1.4\n')
    if (name.endsWith('.png')) return pngBytes(640, 480, 0)
    if (name.endsWith('.jpg')) return new Uint8Array([0xff, 0xd8, 0xff, 0xe0])
    if (name.endsWith('.txt') || name.endsWith('.csv')) return null
    return null
  })()
  if (name.endsWith('.txt') || name.endsWith('.csv')) {
    // Plain text: printable ASCII only, so the type check agrees with the extension.
    for (let i = 0; i < bytes.length; i++) bytes[i] = 32 + ((bytes[i] as number) % 95)
  }
  if (header !== null) bytes.set(header.subarray(0, Math.min(header.length, size)))
  return bytes
}

export async function writeLegacyFixture(options: LegacyFixtureOptions): Promise<LegacyFixture> {
  const seed = options.seed ?? 1
  const fileCount = options.files ?? 480
  const sizeOf = options.sizeOf ?? ((i: number) => ((i * 7919) % 48) * 1024 + (i % 1000) + 64)
  const bigFiles = options.bigFiles ?? true
  const edgeCases = options.edgeCases ?? true
  const uploadsDir = join(options.dir, 'uploads')
  await mkdir(uploadsDir, { recursive: true })

  // Companies 3 and 4 only carry the refused logos of the edge cases.
  const companyIds = [0, 1, 2, 3, 4].map((n) => fixtureUuid(0xc0, n))
  const taskIds = Array.from({ length: 20 }, (_, n) => fixtureUuid(0x7a, n))
  const companyOfTask = (taskIndex: number) => companyIds[taskIndex % 3] as string
  const taskCompany = new Map(taskIds.map((id, n) => [id, companyOfTask(n)]))
  const expected: LegacyFixture['expected'] = {
    migrated: 0,
    migratedBytes: 0,
    logos: 0,
    taskFiles: 0,
    refusedFiles: 0,
    missing: [],
    orphans: [],
    symlinks: [],
    failures: [],
  }
  const taskFiles: LegacyReference[] = []
  const write = async (path: string, bytes: Uint8Array) => {
    const absolute = join(uploadsDir, path)
    await mkdir(dirname(absolute), { recursive: true })
    await writeFile(absolute, bytes)
  }
  const base = Date.UTC(2024, 0, 1)
  const addRow = (path: string, fileName: string, taskIndex: number, route = 'attachment') => {
    const source = `task-file:${fixtureUuid(0xf1, taskFiles.length)}`
    const taskId = taskIds[taskIndex] as string
    taskFiles.push({
      source,
      path,
      route,
      tenantId: companyOfTask(taskIndex),
      ownerId: taskId,
      input: { taskId },
      fileName,
      createdAt: new Date(base + taskFiles.length * 1000),
    })
    return source
  }
  const migrates = (size: number, logo = false) => {
    expected.migrated++
    expected.migratedBytes += size
    if (logo) expected.logos++
    else expected.taskFiles++
  }

  // Ordinary files, written in parallel batches (thousands of sequential writes are slow on some disks).
  const writes: Promise<void>[] = []
  for (let i = 0; i < fileCount; i++) {
    const taskIndex = i % taskIds.length
    const name = NAMES[i % NAMES.length] as string
    // Unique per file; some live one folder deeper, as the legacy app did for comment images.
    const fileName = `${Math.floor(i / NAMES.length)} ${name}`
    const nested = i % 9 === 4
    const path = `${taskIds[taskIndex]}/${nested ? 'comments/' : ''}${fileName}`
    const size = sizeOf(i)
    writes.push(write(path, contentFor(name, size, seed * 100_003 + i)))
    addRow(path, fileName, taskIndex, nested && name.endsWith('.png') ? 'commentImage' : 'attachment')
    migrates(size)
    if (writes.length >= 64) await Promise.all(writes.splice(0))
  }
  await Promise.all(writes)

  if (bigFiles) {
    for (const [name, size] of [
      ['recording 30MiB.mp4', 30 * MiB],
      ['backup 33MiB.zip', 33 * MiB + 12_345],
    ] as const) {
      const path = `${taskIds[1]}/${name}`
      await write(path, contentFor(name, size, seed + size))
      addRow(path, name, 1)
      migrates(size)
    }
  }

  const logoPaths: (string | null)[] = companyIds.map(() => null)
  const acmeLogo = pngBytes(256, 128, 200 + seed)
  await write('logo-acme.png', acmeLogo)
  logoPaths[0] = 'logo-acme.png'
  migrates(acmeLogo.length, true)

  if (edgeCases) {
    // SVG logo: refused (can carry script).
    await write('logo-globex.svg', new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>'))
    logoPaths[1] = 'logo-globex.svg'
    expected.failures.push(`logo:${companyIds[1]}`)
    // Logo whose file is gone.
    logoPaths[2] = 'logo-initech.png'
    expected.missing.push(`logo:${companyIds[2]}`)
    // A pixel bomb (a few bytes claiming 20000x20000) and a PNG over the 1 MiB logo limit: both refused.
    await write('logo-bomb.png', pngBytes(20_000, 20_000))
    logoPaths[3] = 'logo-bomb.png'
    expected.failures.push(`logo:${companyIds[3]}`)
    await write('logo-huge.png', pngBytes(800, 600, 2 * MiB))
    logoPaths[4] = 'logo-huge.png'
    expected.failures.push(`logo:${companyIds[4]}`)

    // Two rows sharing one file: each gets its own object.
    const shared = `${taskIds[3]}/shared image.png`
    const sharedBytes = contentFor('x.png', 5000, seed + 7)
    await write(shared, sharedBytes)
    addRow(shared, 'shared image.png', 3, 'commentImage')
    addRow(shared, 'shared image.png', 3, 'commentImage')
    migrates(sharedBytes.length)
    migrates(sharedBytes.length)

    // Files the routes refuse, as they would refuse a live upload: an empty file, and HTML named as an image.
    await write(`${taskIds[2]}/empty.txt`, new Uint8Array(0))
    expected.failures.push(addRow(`${taskIds[2]}/empty.txt`, 'empty.txt', 2))
    await write(
      `${taskIds[2]}/comments/pasted.png`,
      new TextEncoder().encode('<html><script>alert(1)</script>'),
    )
    expected.failures.push(addRow(`${taskIds[2]}/comments/pasted.png`, 'pasted.png', 2, 'commentImage'))
    expected.refusedFiles += 2

    // A symlink pointing out of the folder, with a row: never followed.
    await symlink('/etc/hostname', join(uploadsDir, taskIds[0] as string, 'hostname.txt'))
    expected.symlinks.push(`${taskIds[0]}/hostname.txt`)
    expected.failures.push(addRow(`${taskIds[0]}/hostname.txt`, 'hostname.txt', 0))
    // A symlinked folder without a row.
    await symlink('/etc', join(uploadsDir, 'etc-link'))
    expected.symlinks.push('etc-link')

    // Rows that escape the folder.
    expected.failures.push(addRow(`${taskIds[0]}/../../../etc/passwd`, 'passwd', 0))
    expected.failures.push(addRow('/etc/passwd', 'passwd', 0))

    // A row whose file is missing, and files no row points to.
    expected.missing.push(addRow(`${taskIds[4]}/gone.pdf`, 'gone.pdf', 4))
    await write(`${taskIds[5]}/orphan.dat`, seededBytes(1234, seed + 3))
    await write('stray file.txt', new TextEncoder().encode('no row points here\n'))
    expected.orphans.push(`${taskIds[5]}/orphan.dat`, 'stray file.txt')
  }
  expected.orphans.sort()
  expected.symlinks.sort()
  expected.failures.sort()
  expected.missing.sort()

  const logos = companyIds.flatMap((id, n): LegacyReference[] => {
    const path = logoPaths[n]
    if (path === null || path === undefined) return []
    return [{ source: `logo:${id}`, path, route: 'logo', tenantId: id, ownerId: id, input: {} }]
  })
  return { uploadsDir, companyIds, taskIds, taskCompany, references: [...taskFiles, ...logos], expected }
}
