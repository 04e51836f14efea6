import { randomUUID } from 'node:crypto'
import { buildObjectKey, fileNameSchema, isKeySegment } from '@upkit/core'
import type { BucketRoute, InlineRoute, JsonValue } from '@upkit/server'
import { baseName, checkLegacyPath } from './legacy-path'
import type { LegacyReference } from './legacy-source'
import type { MigrationItem, PlannedItem } from './migration-store'
import { type ScannedFolder, throughSymlink } from './scan'

// biome-ignore lint/suspicious/noExplicitAny: any app's routes, whatever their context, transaction and input.
export type MigrationRoute = BucketRoute<any, any, any, any> | InlineRoute<any, any, any>
/** The app's upload routes, as given to `createUpkit`. */
export type MigrationRoutes = Readonly<Record<string, MigrationRoute>>

/** A reference that could not be migrated (or was not tried), with why. */
export interface MigrationProblem {
  /** The legacy source's id for it (`task-file:<id>`). */
  source: string
  path: string
  reason: string
}

/** One reference this run will copy (bucket routes) or store (inline routes). */
export interface WorkItem {
  reference: LegacyReference
  source: string
  path: string
  size: number
  routeName: string
  route: MigrationRoute
  /** The reference's input after the route's schema: what is stored and what hooks get. */
  input: JsonValue
  fileName: string
  /** Null for inline routes. */
  uploadId: string | null
  key: string | null
  /** The same id, key and path were planned by an earlier run: the object may already be in the bucket. */
  resumed: boolean
}

export interface Plan {
  work: WorkItem[]
  /** New or changed items to record before any byte is sent. */
  toRecord: PlannedItem[]
  failures: MigrationProblem[]
  missing: MigrationProblem[]
  /** Items earlier runs finished. */
  previouslyDone: MigrationItem[]
  orphans: string[]
}

/**
 * Matches the source's references against the folder listing (never the live file system, so a reference can
 * only reach a file found by walking real folders) and the items of earlier runs, and chooses each new upload's
 * id and key once.
 */
export function planMigration(args: {
  references: readonly LegacyReference[]
  existing: readonly MigrationItem[]
  scanned: ScannedFolder
  routes: MigrationRoutes
  keyPrefix: string
}): Plan {
  const { scanned, routes, keyPrefix } = args
  const existing = new Map(args.existing.map((item) => [item.source, item]))
  const plan: Plan = { work: [], toRecord: [], failures: [], missing: [], previouslyDone: [], orphans: [] }
  const referenced = new Set<string>()
  const seen = new Set<string>()

  for (const reference of args.references) {
    const { source } = reference
    const fail = (reason: string, path = reference.path) => plan.failures.push({ source, path, reason })
    if (seen.has(source)) {
      fail('the legacy source returned this id twice; ids must be unique')
      continue
    }
    seen.add(source)
    const prior = existing.get(source)
    if (prior?.status === 'DONE') {
      // Cannot normally happen (the row rewrite and DONE commit together); someone restored the legacy path.
      fail('already migrated, but the row points at the legacy path again')
      continue
    }
    const checked = checkLegacyPath(reference.path)
    if (!checked.ok) {
      fail(checked.reason)
      continue
    }
    const path = checked.path
    referenced.add(path)
    if (throughSymlink(path, scanned.symlinks)) {
      fail('the path goes through a symbolic link, which is never followed')
      continue
    }
    if (scanned.special.has(path)) {
      fail('not a regular file')
      continue
    }
    const size = scanned.files.get(path)
    if (size === undefined) {
      plan.missing.push({ source, path, reason: 'the file is not in the uploads folder' })
      continue
    }
    const route = Object.hasOwn(routes, reference.route) ? routes[reference.route] : undefined
    if (route === undefined) {
      fail(`there is no upload route "${reference.route}"`)
      continue
    }
    const parsed = route.input.safeParse(reference.input)
    if (!parsed.success) {
      fail(
        `the input does not fit route "${reference.route}": ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      )
      continue
    }
    let uploadId: string | null = null
    let key: string | null = null
    if (route.type === 'bucket') {
      uploadId = prior?.uploadId ?? randomUUID()
      try {
        key = buildObjectKey({
          prefix: keyPrefix,
          tenantId: reference.tenantId,
          route: reference.route,
          uploadId,
        })
      } catch (error) {
        fail((error as Error).message)
        continue
      }
    } else if (reference.ownerId === null || !isKeySegment(reference.ownerId)) {
      fail(`inline route "${reference.route}" needs a key-safe ownerId`)
      continue
    }
    // The same cleaning as `create`: a legacy name comes from a file system that allowed any character.
    const fileName = fileNameSchema.safeParse(reference.fileName || baseName(path))
    if (!fileName.success) {
      fail(`the file name cannot be used: ${fileName.error.issues[0]?.message ?? 'invalid'}`)
      continue
    }
    const unchanged = prior !== undefined && prior.key === key && prior.sourcePath === path
    if (!unchanged) plan.toRecord.push({ source, sourcePath: path, uploadId, key, size })
    plan.work.push({
      reference,
      source,
      path,
      size,
      routeName: reference.route,
      route,
      input: parsed.data as JsonValue,
      fileName: fileName.data,
      uploadId,
      key,
      resumed: unchanged && key !== null,
    })
  }
  plan.previouslyDone = args.existing.filter((item) => item.status === 'DONE')
  for (const item of plan.previouslyDone) referenced.add(item.sourcePath)
  plan.orphans = [...scanned.files.keys()].filter((path) => !referenced.has(path)).sort()
  return plan
}
