import { createHash, randomUUID } from 'node:crypto'
import { unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import {
  assertLogoAllowed,
  buildObjectKey,
  formatBytes,
  LOGO_POLICY,
  planTransfer,
  sniffImageType,
} from '@upkit/core'
import { MigrationItemStatus, type PrismaClient, type UploadKind, UploadStatus } from '@upkit/db'
import { abortMultipartUploads, type BucketStorage } from '@upkit/storage'
import {
  closeLegacyFile,
  localEtag,
  type OpenedFile,
  openLegacyFile,
  unquoteEtag,
  uploadFile,
  verifyUpload,
} from './copy-file'
import { baseName, checkLegacyPath } from './legacy-path'
import { scanFolder, throughSymlink } from './scan'

export interface MigrateUploadsOptions {
  prisma: PrismaClient
  storage: BucketStorage
  /** The legacy app's uploads folder; rows' paths are relative to it. */
  uploadsDir: string
  /** Plan and report only: no database write, no bucket write, no file touched. Default false. */
  dryRun?: boolean
  /**
   * Delete each source file once its copy is verified and the rows pointing at it are committed. Default false:
   * the folder is the only copy until the operator has checked the result, so keeping it is the safe choice.
   */
  deleteSource?: boolean
  /** Files copied at once. Default 8: enough to hide per-request latency without starving the bucket or disk. */
  concurrency?: number
  /**
   * Finished files written to the database per transaction. Default 200: one round trip per few hundred files,
   * while a killed run loses at most this many files' bookkeeping (they are re-checked, not re-sent).
   */
  batchSize?: number
  /** Called on every finished file and phase change; the CLI draws its progress bar from it. Default none. */
  onProgress?: (progress: MigrationProgress) => void
}

export interface MigrationProgress {
  phase: 'scanning' | 'planning' | 'copying' | 'done'
  filesDone: number
  filesTotal: number
  bytesDone: number
  bytesTotal: number
  failed: number
}

/** A row that could not be migrated: `source` is `task-file:<id>` or `logo:<companyId>`. */
export interface MigrationProblem {
  source: string
  path: string
  reason: string
}

export interface MigrationReport {
  dryRun: boolean
  uploadsDir: string
  /** What this run set out to copy: one object (or logo) per row, so `files` counts rows, `bytes` their sizes. */
  planned: { files: number; bytes: number; taskFiles: number; logos: number }
  /** Rows rewritten by this run. */
  migrated: number
  migratedBytes: number
  /** Of `migrated`, objects already in the bucket from a killed run (same size and ETag), so not sent again. */
  reusedObjects: number
  /** Rows a previous run already migrated. */
  alreadyDone: number
  /** Rows whose file is not on disk; left untouched. */
  missing: MigrationProblem[]
  /** Files in the folder that no row (migrated or not) points to; left untouched. */
  orphans: string[]
  /** Symbolic links found in the folder, never followed. */
  symlinks: string[]
  failures: MigrationProblem[]
  deletedSources: number
  durationMs: number
}

interface TaskFileSource {
  id: string
  taskId: string
  kind: UploadKind
  fileName: string
  createdAt: Date
}

interface WorkItem {
  source: string
  path: string
  size: number
  /** Task files become objects in the bucket; company logos live only in the database (`Company.logo`). */
  target: 'upload' | 'logo'
  companyId: string
  fileName: string
  taskFile: TaskFileSource | null
  uploadId: string | null
  key: string | null
  /** An item row existed before this run: the object may already be in the bucket. */
  resumed: boolean
}

type Finished =
  | {
      ok: true
      item: WorkItem
      size: number
      mimeType: string
      etag: string | null
      sha256: string | null
      partSize: number | null
      logo: Uint8Array<ArrayBuffer> | null
      reused: boolean
    }
  | { ok: false; item: WorkItem; reason: string }

interface ExistingItem {
  source: string
  sourcePath: string
  status: MigrationItemStatus
  uploadId: string | null
  key: string | null
  md5: string | null
  sha256: string | null
}

const FLUSH_INTERVAL_MS = 2000

/**
 * Copies every file the legacy rows point to into the bucket, verifies each copy, then writes Upload rows and
 * rewrites the legacy rows in batches. Safe to re-run, including after a kill: see MigrationItem in the schema.
 */
export async function migrateUploads(options: MigrateUploadsOptions): Promise<MigrationReport> {
  const started = Date.now()
  const { prisma, storage } = options
  const root = resolve(options.uploadsDir)
  const dryRun = options.dryRun ?? false
  const concurrency = positiveInteger(options.concurrency ?? 8, 'concurrency')
  const batchSize = positiveInteger(options.batchSize ?? 200, 'batchSize')
  const progress: MigrationProgress = {
    phase: 'scanning',
    filesDone: 0,
    filesTotal: 0,
    bytesDone: 0,
    bytesTotal: 0,
    failed: 0,
  }
  const emit = () => options.onProgress?.({ ...progress })
  emit()

  const scanned = scanFolder(root)
  progress.phase = 'planning'
  emit()

  const existingRows = await prisma.migrationItem.findMany({
    select: {
      source: true,
      sourcePath: true,
      status: true,
      uploadId: true,
      key: true,
      md5: true,
      sha256: true,
    },
  })
  const existing = new Map<string, ExistingItem>(existingRows.map((row) => [row.source, row]))
  const [taskFiles, companies] = await Promise.all([
    prisma.taskFile.findMany({
      where: { path: { not: null } },
      select: {
        id: true,
        companyId: true,
        taskId: true,
        kind: true,
        path: true,
        fileName: true,
        createdAt: true,
      },
    }),
    prisma.company.findMany({
      where: { legacyLogoPath: { not: null } },
      select: { id: true, legacyLogoPath: true },
    }),
  ])

  const report: MigrationReport = {
    dryRun,
    uploadsDir: root,
    planned: { files: 0, bytes: 0, taskFiles: 0, logos: 0 },
    migrated: 0,
    migratedBytes: 0,
    reusedObjects: 0,
    alreadyDone: 0,
    missing: [],
    orphans: [],
    symlinks: [...scanned.symlinks].sort(),
    failures: [],
    deletedSources: 0,
    durationMs: 0,
  }

  const referenced = new Set<string>()
  const work: WorkItem[] = []
  const classify = (
    source: string,
    rawPath: string,
    companyId: string,
    target: WorkItem['target'],
    taskFile: TaskFileSource | null,
  ) => {
    const prior = existing.get(source)
    if (prior?.status === 'DONE') {
      // Cannot normally happen (the row rewrite and DONE commit together); someone restored the legacy path.
      report.failures.push({
        source,
        path: rawPath,
        reason: 'already migrated, but the row points at the legacy path again',
      })
      return
    }
    const checked = checkLegacyPath(rawPath)
    if (!checked.ok) {
      report.failures.push({ source, path: rawPath, reason: checked.reason })
      return
    }
    const path = checked.path
    referenced.add(path)
    if (throughSymlink(path, scanned.symlinks)) {
      report.failures.push({
        source,
        path,
        reason: 'the path goes through a symbolic link, which is never followed',
      })
      return
    }
    if (scanned.special.has(path)) {
      report.failures.push({ source, path, reason: 'not a regular file' })
      return
    }
    const size = scanned.files.get(path)
    if (size === undefined) {
      report.missing.push({ source, path, reason: 'the file is not in the uploads folder' })
      return
    }
    let uploadId = prior?.uploadId ?? null
    let key = prior?.key ?? null
    if (taskFile === null) {
      uploadId = null
      key = null
    } else if (uploadId === null || key === null) {
      uploadId = randomUUID()
      key = buildObjectKey({ companyId, scope: 'tasks', ownerId: taskFile.taskId, uploadId })
    }
    work.push({
      source,
      path,
      size,
      target,
      companyId,
      fileName: taskFile?.fileName || baseName(path),
      taskFile,
      uploadId,
      key,
      resumed: prior !== undefined && prior.key === key && prior.sourcePath === path,
    })
  }
  for (const row of taskFiles) {
    if (row.path === null) continue
    classify(`task-file:${row.id}`, row.path, row.companyId, 'upload', {
      id: row.id,
      taskId: row.taskId,
      kind: row.kind,
      fileName: row.fileName,
      createdAt: row.createdAt,
    })
  }
  for (const row of companies) {
    if (row.legacyLogoPath === null) continue
    classify(`logo:${row.id}`, row.legacyLogoPath, row.id, 'logo', null)
  }
  const previouslyDone = existingRows.filter((row) => row.status === 'DONE')
  report.alreadyDone = previouslyDone.length
  for (const row of previouslyDone) referenced.add(row.sourcePath)
  report.orphans = [...scanned.files.keys()].filter((path) => !referenced.has(path)).sort()

  report.planned = {
    files: work.length,
    bytes: work.reduce((sum, item) => sum + item.size, 0),
    taskFiles: work.filter((item) => item.taskFile !== null).length,
    logos: work.filter((item) => item.taskFile === null).length,
  }
  progress.filesTotal = report.planned.files
  progress.bytesTotal = report.planned.bytes
  progress.failed = report.failures.length

  if (dryRun) {
    progress.phase = 'done'
    emit()
    report.durationMs = Date.now() - started
    return report
  }

  await recordPlan(prisma, work, existing)

  // Paths shared by several rows are deleted only once every row using them is committed.
  const remainingRefs = new Map<string, number>()
  for (const item of work) remainingRefs.set(item.path, (remainingRefs.get(item.path) ?? 0) + 1)
  const keepSource = new Set<string>()
  const deleteSource = options.deleteSource ?? false

  progress.phase = 'copying'
  emit()

  let pending: Finished[] = []
  let lastFlush = Date.now()
  let flushing: Promise<void> = Promise.resolve()
  let fatal: unknown = null
  const flush = (): Promise<void> => {
    const batch = pending
    pending = []
    lastFlush = Date.now()
    flushing = flushing.then(async () => {
      if (batch.length === 0 || fatal !== null) return
      try {
        await commitBatch(prisma, batch)
      } catch (error) {
        fatal ??= error
        return
      }
      for (const finished of batch) {
        if (finished.ok) {
          report.migrated++
          report.migratedBytes += finished.size
          if (finished.reused) report.reusedObjects++
        } else {
          report.failures.push({
            source: finished.item.source,
            path: finished.item.path,
            reason: finished.reason,
          })
          keepSource.add(finished.item.path)
        }
        const left = (remainingRefs.get(finished.item.path) ?? 1) - 1
        remainingRefs.set(finished.item.path, left)
        if (deleteSource && left === 0 && !keepSource.has(finished.item.path)) {
          await unlink(join(root, finished.item.path))
          report.deletedSources++
        }
      }
    })
    return flushing
  }

  // Biggest first, so a large file does not start last and leave the other workers idle at the end.
  const queue = [...work].sort((a, b) => b.size - a.size)
  let next = 0
  const worker = async () => {
    while (fatal === null) {
      const item = queue[next++]
      if (item === undefined) return
      const finished = await copyItem(storage, root, item, (bytes) => {
        progress.bytesDone += bytes
      })
      progress.filesDone++
      if (!finished.ok) progress.failed++
      emit()
      pending.push(finished)
      if (pending.length >= batchSize || Date.now() - lastFlush >= FLUSH_INTERVAL_MS) await flush()
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker))
  await flush()
  if (fatal !== null) throw fatal

  if (deleteSource) {
    const workPaths = new Set(work.map((item) => item.path))
    report.deletedSources += await deleteMigratedLeftovers(
      storage,
      root,
      previouslyDone,
      scanned.files,
      workPaths,
    )
  }
  progress.phase = 'done'
  emit()
  report.durationMs = Date.now() - started
  return report
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, got ${value}`)
  return value
}

/** Stores each new item's upload id and key before any byte is sent, so a re-run reuses them. */
async function recordPlan(prisma: PrismaClient, work: WorkItem[], existing: Map<string, ExistingItem>) {
  const fresh = work.filter((item) => !existing.has(item.source))
  const now = new Date()
  // unnest() sends one array per column: Prisma's createMany spends more CPU compiling a 5,000-parameter query
  // than the database spends inserting it, and this process's CPU is what the migration runs out of.
  for (let i = 0; i < fresh.length; i += 5000) {
    const chunk = fresh.slice(i, i + 5000)
    await prisma.$executeRaw`
      INSERT INTO "MigrationItem" ("source", "sourcePath", "uploadId", "key", "size", "updatedAt")
      SELECT u.source, u.source_path, u.upload_id, u.key, u.size, ${now}
      FROM unnest(${chunk.map((item) => item.source)}::text[], ${chunk.map((item) => item.path)}::text[],
                  ${chunk.map((item) => item.uploadId)}::uuid[], ${chunk.map((item) => item.key)}::text[],
                  ${chunk.map((item) => String(item.size))}::bigint[])
        AS u(source, source_path, upload_id, key, size)`
  }
  // Rows whose path or target changed since the run that planned them: rare, so one update each.
  for (const item of work) {
    const prior = existing.get(item.source)
    if (prior === undefined || (prior.key === item.key && prior.sourcePath === item.path)) continue
    await prisma.migrationItem.update({
      where: { source: item.source },
      data: {
        sourcePath: item.path,
        uploadId: item.uploadId,
        key: item.key,
        size: BigInt(item.size),
        status: MigrationItemStatus.PLANNED,
      },
    })
  }
}

async function copyItem(
  storage: BucketStorage,
  root: string,
  item: WorkItem,
  onBytes: (bytes: number) => void,
): Promise<Finished> {
  const fail = (reason: string): Finished => ({ ok: false, item, reason })
  let file: OpenedFile
  try {
    file = await openLegacyFile(join(root, item.path), item.fileName, item.size)
  } catch (error) {
    return fail(`cannot open the file: ${errorMessage(error)}`)
  }
  try {
    if (item.target === 'upload') return await copyTaskFile(storage, item, file, onBytes)
    return await readLogo(item, file, onBytes)
  } catch (error) {
    return fail(errorMessage(error))
  } finally {
    await closeLegacyFile(file)
  }
}

async function copyTaskFile(
  storage: BucketStorage,
  item: WorkItem,
  file: OpenedFile,
  onBytes: (bytes: number) => void,
): Promise<Finished> {
  const key = item.key as string
  const plan = planTransfer(file.size)
  const partSize = plan.type === 'multipart' ? plan.partSize : null
  const base = {
    ok: true as const,
    item,
    size: file.size,
    mimeType: file.mimeType,
    sha256: null,
    partSize,
    logo: null,
  }
  if (item.resumed) {
    const head = await storage.head(key)
    if (head !== null && head.size === file.size) {
      const etag = await localEtag(file)
      if (unquoteEtag(head.etag) === etag) {
        onBytes(file.size)
        return { ...base, etag, reused: true }
      }
    }
    if (plan.type === 'multipart') await abortMultipartUploads(storage, key)
  }
  const outcome = await uploadFile(storage, file, key, onBytes)
  const problem = await verifyUpload(storage, key, file.size, outcome)
  if (problem !== null) {
    // Nothing points at the key yet; removing the bad copy keeps the bucket free of unreferenced objects.
    await storage.deleteObject(key).catch(() => {})
    return { ok: false, item, reason: `verification failed: ${problem}` }
  }
  return { ...base, etag: outcome.etag, reused: false }
}

/** What the operator should do about a logo the app would refuse: the logo picker checks and stores logos. */
const LOGO_HINT = 'resize it and upload it with the logo picker'

/**
 * Logos live only in the database (the logo picker stores them; `/logos/:companyId/:hash` serves those bytes),
 * so the file is checked as the picker would (`assertLogoAllowed`: size, image type, dimensions) and kept in
 * memory for the batch's transaction. A refused logo is a failure with the reason and what to do about it.
 */
async function readLogo(
  item: WorkItem,
  file: OpenedFile,
  onBytes: (bytes: number) => void,
): Promise<Finished> {
  const refuse = (reason: string): Finished => ({
    ok: false,
    item,
    reason: `invalid logo: ${reason.replace(/\.$/, '')}; ${LOGO_HINT}`,
  })
  // Checked before reading, so a huge file named as a logo is never loaded into memory.
  if (file.size > LOGO_POLICY.maxBytes) {
    return refuse(
      `the logo is ${formatBytes(file.size)}; logos can be at most ${formatBytes(LOGO_POLICY.maxBytes)}`,
    )
  }
  const bytes = new Uint8Array(file.size)
  if (file.bytes !== null) bytes.set(file.bytes)
  else if (file.size > 0) await file.handle?.read(bytes, 0, file.size, 0)
  try {
    assertLogoAllowed(bytes)
  } catch (error) {
    return refuse(errorMessage(error))
  }
  onBytes(file.size)
  return {
    ok: true,
    item,
    size: file.size,
    mimeType: sniffImageType(bytes) ?? 'application/octet-stream',
    etag: null,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    partSize: null,
    logo: bytes,
    reused: false,
  }
}

/** One transaction: Upload rows, the legacy rows pointed at them, logos, and the items marked DONE/FAILED. */
async function commitBatch(prisma: PrismaClient, batch: Finished[]): Promise<void> {
  const now = new Date()
  const uploads = batch.filter((f): f is Extract<Finished, { ok: true }> => f.ok && f.item.taskFile !== null)
  const logos = batch.filter((f): f is Extract<Finished, { ok: true }> => f.ok && f.item.taskFile === null)
  const done = batch.filter((f): f is Extract<Finished, { ok: true }> => f.ok)
  const failed = batch.filter((f): f is Extract<Finished, { ok: false }> => !f.ok)
  await prisma.$transaction(
    async (tx) => {
      if (uploads.length > 0) {
        const column = <T>(pick: (finished: (typeof uploads)[number], taskFile: TaskFileSource) => T) =>
          uploads.map((finished) => pick(finished, finished.item.taskFile as TaskFileSource))
        // One array per column through unnest() rather than createMany: see recordPlan. Confirmed rows never
        // expire (expiresAt is required for PENDING ones); createdAt is the legacy row's, so the migrated file
        // keeps its place in lists ordered by creation. Timestamps go as UTC instants, stored as Prisma does.
        await tx.$executeRaw`
          INSERT INTO "Upload" ("id", "companyId", "taskId", "kind", "status", "key", "fileName", "mimeType",
                                "size", "partSize", "legacyPath", "expiresAt", "confirmedAt", "createdAt")
          SELECT u.id, u.company_id, u.task_id, u.kind::"UploadKind", ${UploadStatus.CONFIRMED}::"UploadStatus",
                 u.key, u.file_name, u.mime_type, u.size, u.part_size, u.legacy_path, ${now}, ${now},
                 u.created_at AT TIME ZONE 'UTC'
          FROM unnest(${column(({ item }) => item.uploadId)}::uuid[], ${column(({ item }) => item.companyId)}::uuid[],
                      ${column((_, t) => t.taskId)}::uuid[], ${column((_, t) => t.kind)}::text[],
                      ${column(({ item }) => item.key)}::text[], ${column(({ item }) => item.fileName)}::text[],
                      ${column(({ mimeType }) => mimeType)}::text[], ${column(({ size }) => String(size))}::bigint[],
                      ${column(({ partSize }) => partSize)}::int[], ${column(({ item }) => item.path)}::text[],
                      ${column((_, t) => t.createdAt.toISOString())}::timestamptz[])
            AS u(id, company_id, task_id, kind, key, file_name, mime_type, size, part_size, legacy_path,
                 created_at)`
        const ids = uploads.map(({ item }) => (item.taskFile as TaskFileSource).id)
        const uploadIds = uploads.map(({ item }) => item.uploadId as string)
        await tx.$executeRaw`
          UPDATE "TaskFile" AS t SET "path" = NULL, "uploadId" = u.upload_id
          FROM unnest(${ids}::uuid[], ${uploadIds}::uuid[]) AS u(id, upload_id)
          WHERE t.id = u.id`
      }
      for (const { item, logo, mimeType, sha256 } of logos) {
        await tx.company.updateMany({
          where: { id: item.companyId },
          data: {
            logo,
            logoMimeType: mimeType,
            logoHash: sha256,
            logoUpdatedAt: now,
            legacyLogoPath: null,
          },
        })
      }
      if (done.length > 0) {
        await tx.$executeRaw`
          UPDATE "MigrationItem" AS m
          SET "status" = 'DONE', "md5" = u.md5, "sha256" = u.sha256, "size" = u.size, "error" = NULL,
              "updatedAt" = ${now}
          FROM unnest(${done.map((f) => f.item.source)}::text[], ${done.map((f) => f.etag)}::text[],
                      ${done.map((f) => f.sha256)}::text[], ${done.map((f) => String(f.size))}::bigint[])
            AS u(source, md5, sha256, size)
          WHERE m.source = u.source`
      }
      if (failed.length > 0) {
        await tx.$executeRaw`
          UPDATE "MigrationItem" AS m SET "status" = 'FAILED', "error" = u.error, "updatedAt" = ${now}
          FROM unnest(${failed.map((f) => f.item.source)}::text[], ${failed.map((f) => f.reason)}::text[])
            AS u(source, error)
          WHERE m.source = u.source`
      }
    },
    { timeout: 120_000, maxWait: 60_000 },
  )
}

/**
 * `--delete-source` after a run killed between a commit and its deletes: files of rows migrated earlier are
 * deleted once their copy checks out again (object size + ETag, or the stored logo's sha256).
 */
async function deleteMigratedLeftovers(
  storage: BucketStorage,
  root: string,
  previouslyDone: ExistingItem[],
  files: ReadonlyMap<string, number>,
  /** Paths this run handled itself (deleted or kept on purpose). */
  workPaths: ReadonlySet<string>,
): Promise<number> {
  let deleted = 0
  const deletedPaths = new Set<string>()
  for (const item of previouslyDone) {
    const size = files.get(item.sourcePath)
    if (size === undefined || deletedPaths.has(item.sourcePath)) continue
    if (workPaths.has(item.sourcePath)) continue
    let file: OpenedFile
    try {
      file = await openLegacyFile(join(root, item.sourcePath), baseName(item.sourcePath), size)
    } catch {
      continue
    }
    let verified = false
    try {
      if (item.key !== null && item.md5 !== null) {
        const head = await storage.head(item.key)
        verified = head !== null && head.size === file.size && unquoteEtag(head.etag) === item.md5
      } else if (item.sha256 !== null) {
        const hash = createHash('sha256')
        if (file.bytes !== null) hash.update(file.bytes)
        const stream = file.handle?.createReadStream({ autoClose: false }) ?? []
        for await (const chunk of stream) hash.update(chunk as Buffer)
        verified = hash.digest('hex') === item.sha256
      }
    } finally {
      await closeLegacyFile(file)
    }
    if (verified) {
      await unlink(join(root, item.sourcePath))
      deletedPaths.add(item.sourcePath)
      deleted++
    }
  }
  return deleted
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
