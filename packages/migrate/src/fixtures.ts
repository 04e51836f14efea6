import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { PrismaClient } from '@upkit/db'
import { UploadKind } from '@upkit/db'

// A legacy app's ./uploads folder and the rows that point into it, built the same way every time (ids and bytes
// come from `seed`), so two fixtures can be migrated differently and their end states compared.

export interface LegacyFixtureOptions {
  /** Parent folder; the uploads folder is `<dir>/uploads`. */
  dir: string
  /** Rows and companies are inserted here when given. */
  prisma?: PrismaClient
  /** Ordinary task files (attachments and comment images). Default 480. */
  files?: number
  /** Size in bytes of ordinary file `index`. Default: 0 for every 50th file, else up to ~48 KiB. */
  sizeOf?: (index: number) => number
  /** Adds the 30 MiB (single PUT, streamed) and 33 MiB (multipart) files. Default true. */
  bigFiles?: boolean
  /** Adds the awkward cases: symlink, `..` and absolute rows, missing file, orphans, bad logos. Default true. */
  edgeCases?: boolean
  seed?: number
}

export interface LegacyFixture {
  uploadsDir: string
  companyIds: string[]
  taskIds: string[]
  /** What a full migration must report. */
  expected: {
    /** Rows (task files + logos) that migrate. */
    migrated: number
    migratedBytes: number
    logos: number
    taskFiles: number
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
  const sizeOf = options.sizeOf ?? ((i: number) => (i % 50 === 7 ? 0 : ((i * 7919) % 48) * 1024 + (i % 1000)))
  const bigFiles = options.bigFiles ?? true
  const edgeCases = options.edgeCases ?? true
  const uploadsDir = join(options.dir, 'uploads')
  await mkdir(uploadsDir, { recursive: true })

  // Companies 3 and 4 only carry the refused logos of the edge cases.
  const companyIds = [0, 1, 2, 3, 4].map((n) => fixtureUuid(0xc0, n))
  const taskIds = Array.from({ length: 20 }, (_, n) => fixtureUuid(0x7a, n))
  const taskCompany = (taskIndex: number) => companyIds[taskIndex % 3] as string
  const expected: LegacyFixture['expected'] = {
    migrated: 0,
    migratedBytes: 0,
    logos: 0,
    taskFiles: 0,
    missing: [],
    orphans: [],
    symlinks: [],
    failures: [],
  }
  const taskFileRows: {
    id: string
    companyId: string
    taskId: string
    kind: UploadKind
    path: string
    fileName: string
    createdAt: Date
  }[] = []
  const write = async (path: string, bytes: Uint8Array) => {
    const absolute = join(uploadsDir, path)
    await mkdir(dirname(absolute), { recursive: true })
    await writeFile(absolute, bytes)
  }
  const base = Date.UTC(2024, 0, 1)
  const addRow = (
    path: string,
    fileName: string,
    taskIndex: number,
    kind: UploadKind = UploadKind.ATTACHMENT,
  ) => {
    const id = fixtureUuid(0xf1, taskFileRows.length)
    taskFileRows.push({
      id,
      companyId: taskCompany(taskIndex),
      taskId: taskIds[taskIndex] as string,
      kind,
      path,
      fileName,
      createdAt: new Date(base + taskFileRows.length * 1000),
    })
    return `task-file:${id}`
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
    addRow(path, fileName, taskIndex, nested ? UploadKind.COMMENT_IMAGE : UploadKind.ATTACHMENT)
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

  const logoRows: { id: string; legacyLogoPath: string | null }[] = companyIds.map((id) => ({
    id,
    legacyLogoPath: null,
  }))
  const acmeLogo = pngBytes(256, 128, 200 + seed)
  await write('logo-acme.png', acmeLogo)
  ;(logoRows[0] as { legacyLogoPath: string | null }).legacyLogoPath = 'logo-acme.png'
  migrates(acmeLogo.length, true)

  if (edgeCases) {
    // SVG logo: refused (can carry script).
    await write('logo-globex.svg', new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>'))
    ;(logoRows[1] as { legacyLogoPath: string | null }).legacyLogoPath = 'logo-globex.svg'
    expected.failures.push(`logo:${companyIds[1]}`)
    // Logo whose file is gone.
    ;(logoRows[2] as { legacyLogoPath: string | null }).legacyLogoPath = 'logo-initech.png'
    expected.missing.push(`logo:${companyIds[2]}`)
    // A pixel bomb (a few bytes claiming 20000x20000) and a PNG over the 1 MiB logo limit: both refused.
    await write('logo-bomb.png', pngBytes(20_000, 20_000))
    ;(logoRows[3] as { legacyLogoPath: string | null }).legacyLogoPath = 'logo-bomb.png'
    expected.failures.push(`logo:${companyIds[3]}`)
    await write('logo-huge.png', pngBytes(800, 600, 2 * MiB))
    ;(logoRows[4] as { legacyLogoPath: string | null }).legacyLogoPath = 'logo-huge.png'
    expected.failures.push(`logo:${companyIds[4]}`)

    // Two rows sharing one file: each gets its own object.
    const shared = `${taskIds[3]}/shared image.png`
    const sharedBytes = contentFor('x.png', 5000, seed + 7)
    await write(shared, sharedBytes)
    addRow(shared, 'shared image.png', 3, UploadKind.COMMENT_IMAGE)
    addRow(shared, 'shared image.png', 3, UploadKind.COMMENT_IMAGE)
    migrates(sharedBytes.length)
    migrates(sharedBytes.length)

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

  if (options.prisma) {
    const prisma = options.prisma
    await prisma.company.createMany({
      data: logoRows.map((row, n) => ({
        id: row.id,
        name: `Company ${n}`,
        slug: `company-${seed}-${n}`,
        legacyLogoPath: row.legacyLogoPath,
      })),
    })
    await prisma.task.createMany({
      data: taskIds.map((id, n) => ({ id, companyId: taskCompany(n), title: `Task ${n}` })),
    })
    for (let i = 0; i < taskFileRows.length; i += 1000) {
      await prisma.taskFile.createMany({ data: taskFileRows.slice(i, i + 1000) })
    }
  }
  return { uploadsDir, companyIds, taskIds, expected }
}
