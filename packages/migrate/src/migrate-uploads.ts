import { createHash, randomUUID } from 'node:crypto'
import { unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import {
  assertLogoAllowed,
  buildObjectKey,
  formatBytes,
  LOGO_POLICY,
  MULTIPART_THRESHOLD,
  planTransfer,
  sniffImageType,
} from '@upkit/core'
import { type PrismaClient, type UploadKind, UploadStatus } from '@upkit/db'
import type { BucketStorage } from '@upkit/storage'
import {
  closeLegacyFile,
  localEtag,
  type OpenedFile,
  openLegacyFile,
  unquoteEtag,
  uploadFile,
  verifyObject,
} from './copy-file'
import { baseName, checkLegacyPath } from './legacy-path'
import { scanFolder, throughSymlink } from './scan'

export type LogoTarget = 'database' | 'bucket'

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
  /**
   * Where company logos go. Default `database` (Company.logo, what the app serves, ≤ 1 MiB and checked with
   * `assertLogoAllowed`); `bucket` puts them at `companies/<id>/logos/<uuid>` and sets `Company.logoKey`.
   */
  logosTo?: LogoTarget
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
  target: 'upload' | 'logo-database' | 'logo-bucket'
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
  status: 'PLANNED' | 'DONE' | 'FAILED'
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
  const logosTo = options.logosTo ?? 'database'
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
    const needsKey = target !== 'logo-database'
    let uploadId = prior?.uploadId ?? null
    let key = prior?.key ?? null
    if (needsKey && (uploadId === null || key === null)) {
      uploadId = randomUUID()
      key =
        taskFile === null
          ? `companies/${companyId}/logos/${uploadId}`
          : buildObjectKey({ companyId, scope: 'tasks', ownerId: taskFile.taskId, uploadId })
    }
    work.push({
      source,
      path,
      size,
      target,
      companyId,
      fileName: taskFile?.fileName || baseName(path),
      taskFile,
      uploadId: needsKey ? uploadId : null,
      key: needsKey ? key : null,
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
    classify(
      `logo:${row.id}`,
      row.legacyLogoPath,
      row.id,
      logosTo === 'database' ? 'logo-database' : 'logo-bucket',
      null,
    )
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
  for (let i = 0; i < fresh.length; i += 1000) {
    await prisma.migrationItem.createMany({
      data: fresh.slice(i, i + 1000).map((item) => ({
        source: item.source,
        sourcePath: item.path,
        uploadId: item.uploadId,
        key: item.key,
        size: BigInt(item.size),
      })),
    })
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
        status: 'PLANNED',
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
    return await copyLogo(storage, item, file, onBytes)
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
    if (plan.type === 'multipart') await abortStaleMultipart(storage, key)
  }
  const outcome = await uploadFile(storage, file, key, onBytes)
  const problem = await verifyObject(storage, key, file.size, outcome.etag)
  if (problem !== null) {
    // Nothing points at the key yet; removing the bad copy keeps the bucket free of unreferenced objects.
    await storage.deleteObject(key).catch(() => {})
    return { ok: false, item, reason: `verification failed: ${problem}` }
  }
  return { ...base, etag: outcome.etag, reused: false }
}

async function copyLogo(
  storage: BucketStorage,
  item: WorkItem,
  file: OpenedFile,
  onBytes: (bytes: number) => void,
): Promise<Finished> {
  const limit = item.target === 'logo-database' ? LOGO_POLICY.maxBytes : MULTIPART_THRESHOLD
  if (file.size > limit) {
    return {
      ok: false,
      item,
      reason: `the logo is ${formatBytes(file.size)}; logos can be at most ${formatBytes(limit)}`,
    }
  }
  const bytes = new Uint8Array(file.size)
  if (file.bytes !== null) bytes.set(file.bytes)
  else if (file.size > 0) await file.handle?.read(bytes, 0, file.size, 0)
  let mimeType: string
  if (item.target === 'logo-database') {
    try {
      assertLogoAllowed(bytes)
    } catch (error) {
      return { ok: false, item, reason: `invalid logo: ${errorMessage(error)}` }
    }
    mimeType = sniffImageType(bytes) ?? 'application/octet-stream'
  } else {
    const sniffed = sniffImageType(bytes)
    if (sniffed === null)
      return { ok: false, item, reason: 'invalid logo: not a PNG, JPEG, WebP or GIF image' }
    mimeType = sniffed
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  const base = { ok: true as const, item, size: file.size, mimeType, sha256, partSize: null }
  if (item.target === 'logo-database') {
    onBytes(file.size)
    return { ...base, etag: null, logo: bytes, reused: false }
  }
  const key = item.key as string
  const md5 = createHash('md5').update(bytes).digest('hex')
  if (item.resumed) {
    const head = await storage.head(key)
    if (head !== null && head.size === file.size && unquoteEtag(head.etag) === md5) {
      onBytes(file.size)
      return { ...base, etag: md5, logo: null, reused: true }
    }
  }
  await storage.putObject({ key, body: bytes, contentType: mimeType, contentLength: file.size })
  onBytes(file.size)
  const problem = await verifyObject(storage, key, file.size, md5)
  if (problem !== null) {
    await storage.deleteObject(key).catch(() => {})
    return { ok: false, item, reason: `verification failed: ${problem}` }
  }
  return { ...base, etag: md5, logo: null, reused: false }
}

async function abortStaleMultipart(storage: BucketStorage, key: string): Promise<void> {
  const uploads = await storage.listMultipartUploads({ prefix: key })
  await Promise.all(
    uploads
      .filter((upload) => upload.key === key)
      .map((upload) => storage.abortMultipartUpload({ key, uploadId: upload.uploadId })),
  )
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
        await tx.upload.createMany({
          data: uploads.map(({ item, size, mimeType, partSize }) => {
            const taskFile = item.taskFile as TaskFileSource
            return {
              id: item.uploadId as string,
              companyId: item.companyId,
              taskId: taskFile.taskId,
              kind: taskFile.kind,
              status: UploadStatus.CONFIRMED,
              key: item.key as string,
              fileName: item.fileName,
              mimeType,
              size: BigInt(size),
              partSize,
              legacyPath: item.path,
              // Confirmed rows never expire; the column is required for PENDING ones.
              expiresAt: now,
              confirmedAt: now,
              // Lists are ordered by creation: the migrated file keeps its place among the task's files.
              createdAt: taskFile.createdAt,
            }
          }),
        })
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
            ...(logo === null ? { logoKey: item.key } : { logo, logoKey: null }),
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
