import type { JsonValue } from '@upkit/server'

/**
 * One file a legacy row points at, as the app's `LegacySource` reads it. The migrator copies the file into the
 * bucket (bucket routes) or hands it to the route's `onStored` (inline routes), then asks the source to rewrite
 * the row. Everything upkit records about the file comes from here: the migrator never reads the app's tables.
 */
export interface LegacyReference {
  /**
   * Stable id of the reference, unique across the source (`task-file:<row id>`, `logo:<company id>`): the
   * migration's progress is kept by it, so a re-run recognizes the upload id and key it chose before. One per
   * row, not per file: two rows sharing a file each get their own object, so deleting one never deletes the
   * other's bytes.
   */
  readonly source: string
  /** The row's path, relative to the uploads folder, `/`-separated; anything else is refused, never normalized. */
  readonly path: string
  /** The upload route the file belongs to now (a bucket route, or an inline route for logos and avatars). */
  readonly route: string
  /** What the route's `authorize` would return as `tenantId` for this file: keys and reads are scoped by it. */
  readonly tenantId: string
  /** What `authorize` would return as `ownerId` (the task, the invoice; required for inline routes). */
  readonly ownerId: string | null
  /**
   * The route input a live upload of this file would have been created with (`{ taskId }`): checked against the
   * route's schema and stored with the upload, since every later call authorizes again with it.
   */
  readonly input: JsonValue
  /** What `authorize` would return as `metadata`. Default `{}`. */
  readonly metadata?: { [key: string]: JsonValue }
  /** Who uploaded it, when the legacy row knows. Default `null`. */
  readonly uploadedBy?: string | null
  /** The name people see and download it as. Default: the path's last segment. */
  readonly fileName?: string
  /**
   * The type the legacy app recorded. Used when the file's first bytes agree with it; otherwise (and by default)
   * the type is detected from the bytes and the name's extension, as for a live upload's content check.
   */
  readonly mimeType?: string
  /** When the legacy row was created, so the file keeps its place in lists ordered by time. Default: now. */
  readonly createdAt?: Date
}

/** A reference whose file is in its new place, handed back to the source to rewrite the legacy row. */
export type MigratedReference =
  | {
      readonly type: 'bucket'
      readonly reference: LegacyReference
      /** The CONFIRMED upload the row should point at now (`UpkitUpload.id`). */
      readonly upload: {
        readonly id: string
        readonly key: string
        readonly mimeType: string
        readonly size: number
      }
    }
  | {
      readonly type: 'inline'
      readonly reference: LegacyReference
      /** What the route's `onStored` received; the row's own columns already hold it. */
      readonly image: { readonly hash: string; readonly mimeType: string; readonly size: number }
    }

/**
 * The app's side of `upkit migrate`: which legacy rows point into the uploads folder, and how to rewrite them once
 * their files moved. `TTx` is the migration store's transaction handle (a Prisma transaction client).
 */
export interface LegacySource<TTx> {
  /**
   * Every reference still pointing into the uploads folder. A row already rewritten (by `writeBack`) must no
   * longer be returned: that is how a re-run knows it is done.
   */
  read(): Promise<readonly LegacyReference[]>
  /**
   * Points the legacy rows at their new place (e.g. clear the path, set the upload id), using `tx` only: it runs
   * inside the transaction that also records the uploads and marks the items done, so either all of it commits or
   * none. On a database with one connection (PGlite) any query outside `tx` would wait for this transaction
   * forever. Called once per batch, with every reference of the batch that migrated.
   */
  writeBack(tx: TTx, migrated: readonly MigratedReference[]): Promise<void>
}
