import type { JsonValue } from '@upkit/server'

export type MigrationItemStatus = 'PLANNED' | 'DONE' | 'FAILED'

/** One legacy reference's progress (`UpkitMigrationItem`), as earlier runs left it. */
export interface MigrationItem {
  readonly source: string
  readonly sourcePath: string
  readonly status: MigrationItemStatus
  /** Null for inline routes. */
  readonly uploadId: string | null
  readonly key: string | null
  /** The copy's ETag (bucket routes), once DONE. */
  readonly md5: string | null
  /** The bytes' sha256 (inline routes), once DONE. */
  readonly sha256: string | null
}

/** What a run is about to copy: recorded before any byte is sent, so a killed run's re-run reuses id and key. */
export interface PlannedItem {
  readonly source: string
  readonly sourcePath: string
  readonly uploadId: string | null
  readonly key: string | null
  readonly size: number
}

/** An upload row for a verified copy: CONFIRMED from the start, since the migrator checked the object itself. */
export interface MigratedUpload {
  readonly id: string
  readonly route: string
  readonly tenantId: string
  readonly ownerId: string | null
  readonly uploadedBy: string | null
  readonly key: string
  readonly fileName: string
  readonly mimeType: string
  readonly size: number
  readonly partSize: number | null
  readonly input: JsonValue
  readonly metadata: JsonValue
  readonly createdAt: Date
}

export interface MigrationBatch {
  readonly uploads: readonly MigratedUpload[]
  readonly done: readonly { source: string; md5: string | null; sha256: string | null; size: number }[]
  readonly failed: readonly { source: string; error: string }[]
}

/**
 * Where the migrator keeps its progress and records its uploads: upkit's own tables (`UpkitMigrationItem`,
 * `UpkitUpload`), never the app's. Batched on purpose: with thousands of small files, per-file round trips (an
 * `UploadStore.insert` then `confirm` each) cost more than the copies. `prismaMigrationStore` implements it.
 */
export interface MigrationStore<TTx> {
  /** Every item earlier runs recorded. */
  items(): Promise<MigrationItem[]>
  /** Records new items and re-plans changed ones (status back to PLANNED), before any byte is sent. */
  plan(items: readonly PlannedItem[]): Promise<void>
  /**
   * One transaction: inserts the uploads (CONFIRMED), runs `writeBack` with the transaction handle (the app's
   * legacy rows), and marks the items DONE or FAILED. If anything throws, none of it is written.
   */
  commit(batch: MigrationBatch, writeBack: (tx: TTx) => Promise<void>): Promise<void>
  /** Shown in the CLI's header: what the store is, without secrets. */
  readonly describe: string
}
