import { createHash } from 'node:crypto'
import { unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { assertKeyPrefix, DEFAULT_KEY_PREFIX } from '@upkit/core'
import type { BucketStorage } from '@upkit/storage'
import { closeLegacyFile, type OpenedFile, openLegacyFile, unquoteEtag } from './copy-file'
import { copyItem, errorMessage, type Finished } from './copy-item'
import { baseName } from './legacy-path'
import type { LegacySource, MigratedReference } from './legacy-source'
import type { MigrationItem, MigrationStore } from './migration-store'
import { type MigrationProblem, type MigrationRoutes, planMigration } from './plan'
import { scanFolder } from './scan'

export interface MigrateUploadsOptions<TTx> {
  /** The app's legacy rows: what to read, how to write back. */
  source: LegacySource<TTx>
  /** Where progress and uploads are recorded (`prismaMigrationStore(prisma)`), sharing `TTx` with the source. */
  store: MigrationStore<TTx>
  storage: BucketStorage
  /** The app's upload routes (as given to `createUpkit`): their policies and inline `onStored` hooks apply. */
  routes: MigrationRoutes
  /**
   * The key prefix of the app's `createUpkit`. Default `'uploads/'` (upkit's default): migrated files get the same
   * keys as live uploads, under the prefix the sweeper lists.
   */
  keyPrefix?: string
  /**
   * What inline routes' `onStored` get as `ctx`: a migration has no request. Default `null`; a hook that needs
   * the caller's session cannot run here and should store by `ownerId`.
   */
  hookContext?: unknown
  /** The legacy app's uploads folder; references' paths are relative to it. */
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
   * Finished files written to the database per transaction. Default 1000: each transaction has a fixed cost
   * (on embedded PGlite it runs on this event loop, stalling every copy), and 1,000 rows per commit took a third
   * less database time than 200 in the 10,000-file bench; a batch is also flushed every 2 s, so at ~1,000
   * files/s a killed run loses about as much bookkeeping either way (those files are re-checked, not re-sent).
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

export interface MigrationReport {
  dryRun: boolean
  uploadsDir: string
  /** What this run set out to move: one object (or inline image) per reference, so `files` counts references. */
  planned: { files: number; bytes: number; bucket: number; inline: number }
  /** References rewritten by this run. */
  migrated: number
  migratedBytes: number
  /** Of `migrated`, objects already in the bucket from a killed run (same size and ETag), so not sent again. */
  reusedObjects: number
  /** References a previous run already migrated. */
  alreadyDone: number
  /** References whose file is not on disk; left untouched. */
  missing: MigrationProblem[]
  /** Files in the folder that no reference (migrated or not) points to; left untouched. */
  orphans: string[]
  /** Symbolic links found in the folder, never followed. */
  symlinks: string[]
  failures: MigrationProblem[]
  deletedSources: number
  durationMs: number
}

type Succeeded = Extract<Finished, { ok: true }>

const FLUSH_INTERVAL_MS = 2000

/**
 * Copies every file the legacy references point to into the bucket (or through an inline route's `onStored`),
 * verifies each copy, then records the uploads and has the source rewrite its rows, in batches. Safe to re-run,
 * including after a kill: each upload's id and key are stored before any byte is sent, and a row's rewrite
 * commits together with its upload and its item's DONE.
 */
export async function migrateUploads<TTx>(options: MigrateUploadsOptions<TTx>): Promise<MigrationReport> {
  const started = Date.now()
  const { source, store, storage, routes } = options
  const root = resolve(options.uploadsDir)
  const dryRun = options.dryRun ?? false
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX
  assertKeyPrefix(keyPrefix)
  const concurrency = positiveInteger(options.concurrency ?? 8, 'concurrency')
  const batchSize = positiveInteger(options.batchSize ?? 1000, 'batchSize')
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
  const [existing, references] = await Promise.all([store.items(), source.read()])
  const plan = planMigration({ references, existing, scanned, routes, keyPrefix })
  const { work } = plan

  const report: MigrationReport = {
    dryRun,
    uploadsDir: root,
    planned: {
      files: work.length,
      bytes: work.reduce((sum, item) => sum + item.size, 0),
      bucket: work.filter((item) => item.route.type === 'bucket').length,
      inline: work.filter((item) => item.route.type === 'inline').length,
    },
    migrated: 0,
    migratedBytes: 0,
    reusedObjects: 0,
    alreadyDone: plan.previouslyDone.length,
    missing: plan.missing,
    orphans: plan.orphans,
    symlinks: [...scanned.symlinks].sort(),
    failures: plan.failures,
    deletedSources: 0,
    durationMs: 0,
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

  await store.plan(plan.toRecord)

  // Paths shared by several references are deleted only once every reference using them is committed.
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
      let committed: Finished[]
      try {
        committed = await commitBatch(source, store, options.hookContext ?? null, batch)
      } catch (error) {
        fatal ??= error
        return
      }
      for (const finished of committed) {
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
      plan.previouslyDone,
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

/**
 * Inline images first go to their route's `onStored` (the app's own write, outside any transaction: the hook gets
 * no `tx`), one at a time and never while a batch transaction is open, since on a one-connection database a query
 * outside the transaction would wait for it. Storing the same bytes twice is harmless, so a kill between the hook
 * and the commit only repeats the hook. Then one transaction: uploads, the source's rewrite, items DONE/FAILED.
 * Resolves the batch as committed (a failed hook turns its item into a failure).
 */
async function commitBatch<TTx>(
  source: LegacySource<TTx>,
  store: MigrationStore<TTx>,
  hookContext: unknown,
  batch: Finished[],
): Promise<Finished[]> {
  const committed: Finished[] = []
  for (const finished of batch) {
    if (finished.ok && finished.item.route.type === 'inline' && finished.image !== null) {
      const { item } = finished
      try {
        await finished.item.route.config.onStored({
          input: item.input,
          metadata: item.reference.metadata ?? {},
          tenantId: item.reference.tenantId,
          ownerId: item.reference.ownerId as string,
          ctx: hookContext,
          image: finished.image,
        })
      } catch (error) {
        committed.push({ ok: false, item, reason: `the route's onStored failed: ${errorMessage(error)}` })
        continue
      }
    }
    committed.push(finished)
  }
  const succeeded = committed.filter((f): f is Succeeded => f.ok)
  const migrated: MigratedReference[] = succeeded.map((f) =>
    f.item.route.type === 'bucket'
      ? {
          type: 'bucket',
          reference: f.item.reference,
          upload: {
            id: f.item.uploadId as string,
            key: f.item.key as string,
            mimeType: f.mimeType,
            size: f.size,
          },
        }
      : {
          type: 'inline',
          reference: f.item.reference,
          image: { hash: f.sha256 as string, mimeType: f.mimeType, size: f.size },
        },
  )
  const now = new Date()
  await store.commit(
    {
      uploads: succeeded
        .filter((f) => f.item.route.type === 'bucket')
        .map(({ item, mimeType, size, partSize }) => ({
          id: item.uploadId as string,
          route: item.routeName,
          tenantId: item.reference.tenantId,
          ownerId: item.reference.ownerId,
          uploadedBy: item.reference.uploadedBy ?? null,
          key: item.key as string,
          fileName: item.fileName,
          mimeType,
          size,
          partSize,
          input: item.input,
          metadata: item.reference.metadata ?? {},
          createdAt: item.reference.createdAt ?? now,
        })),
      done: succeeded.map((f) => ({ source: f.item.source, md5: f.etag, sha256: f.sha256, size: f.size })),
      failed: committed.flatMap((f) => (f.ok ? [] : [{ source: f.item.source, error: f.reason }])),
    },
    (tx) => (migrated.length > 0 ? source.writeBack(tx, migrated) : Promise.resolve()),
  )
  return committed
}

/**
 * `--delete-source` after a run killed between a commit and its deletes: files of references migrated earlier are
 * deleted once their copy checks out again (object size + ETag, or the stored image's sha256).
 */
async function deleteMigratedLeftovers(
  storage: BucketStorage,
  root: string,
  previouslyDone: MigrationItem[],
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
