import type { StoredUsage, UploadLimits, UsageScope } from '../limits/quota'
import type { RateLimiter } from '../limits/rate-limit'

/**
 * Where upkit keeps its records of uploads: one row per object, in upkit's own table, never the app's. The
 * Prisma implementation ships in `@upkit/store-prisma`; anything that can do these few conditional writes
 * atomically (a SQL database) can implement it.
 *
 * `TTx` is the store's transaction handle: the app's `onConfirmed`/`onDeleted` hooks get it, so the app links a
 * file to its own rows in the same transaction that confirms or deletes the upload.
 */
export interface UploadStore<TTx = unknown> {
  /**
   * Writes a new PENDING row. With `limits`, atomically with the write (concurrent inserts of the same tenant must
   * not both fit in the last slot): if the scope's used + reserved plus this row would exceed them, writes nothing
   * and rejects with `limits.refuse(usage)`.
   */
  insert(row: NewUploadRow, limits?: UploadLimits): Promise<UploadRow>
  /**
   * Writes new PENDING rows of one tenant (`createMany`) in one transaction. Each entry's `limits` (when given) is
   * the same quota, only its `refuse` names the entry's file; they are decided in order under the same atomicity as
   * `insert`: an entry fits if used + reserved + the entries written before it + itself stay within them, otherwise
   * it is not written and its result is `limits.refuse(usage as it saw it)`; later, smaller entries may still fit.
   * Resolves one result per entry, in order. Optional: without it upkit calls `insert` once per entry (correct,
   * one transaction per row).
   */
  insertMany?(entries: readonly NewUploadEntry[]): Promise<InsertResult[]>
  /**
   * `insert` without limits, written only while the row's person (its route, tenant, owner and uploader) has fewer
   * than `maxPending` PENDING rows unexpired at `now`: `countPending` and `insert` as one statement, one round trip
   * less for every `create` of a route without quota. Resolves null, writing nothing, at the cap. Optional: without
   * it upkit calls `countPending`, then `insert`.
   */
  insertBelowPendingCap?(row: NewUploadRow, maxPending: number, now: Date): Promise<UploadRow | null>
  /** What a quota counts for `scope` at `now`: CONFIRMED rows (used) and unexpired PENDING rows (reserved). */
  usage(scope: UsageScope, now: Date): Promise<StoredUsage>
  /** The store's own rate-limit counters, used unless `createUpkit` is given a `rateLimits.limiter`. */
  readonly rateLimiter?: RateLimiter
  find(id: string): Promise<UploadRow | null>
  /** The rows of `ids` that exist, in any order (`confirmMany`). Optional: without it upkit calls `find` per id. */
  findMany?(ids: readonly string[]): Promise<UploadRow[]>
  /** Records the multipart upload a PENDING row uses now (a client may start its own). */
  setMultipartUploadId(id: string, multipartUploadId: string): Promise<void>
  /**
   * PENDING and unexpired at `now` -> CONFIRMED, and `hook` in the same transaction; resolves the confirmed row,
   * or `null` when the row was not PENDING-and-unexpired (nothing written). A hook that throws rolls the flip back
   * and the error propagates.
   */
  confirm(
    id: string,
    now: Date,
    hook: (tx: TTx, row: UploadRow) => Promise<void>,
    /** The bucket's ETag of the object confirm checked, stored as the row's `etag`; null if the bucket gave none. */
    etag?: string | null,
    /**
     * A checked preview stored with the flip (`thumbnail`, `thumbnailType`), only when it happens: a row that is no
     * longer PENDING keeps what it has, so a confirmed upload's thumbnail never changes.
     */
    thumbnail?: StoredThumbnail | null,
  ): Promise<UploadRow | null>
  /**
   * `confirm` for many rows of routes without an `onConfirmed` hook (`confirmMany`), in one statement: each row
   * still PENDING and unexpired at `now` -> CONFIRMED with its entry's `etag` and `thumbnail` (as `confirm` stores
   * them); the others are left as they are. Resolves the rows it flipped, in any order. Optional: without it upkit
   * calls `confirm` per row (correct, one transaction each).
   */
  confirmMany?(entries: readonly ConfirmEntry[], now: Date): Promise<UploadRow[]>
  /** The thumbnail bytes of a CONFIRMED row; `null` when it has none. Read on its own: no list selects the bytes. */
  findThumbnail(id: string): Promise<StoredThumbnail | null>
  /**
   * PENDING -> FAILED with a reason; a no-op for any other status. Resolves whether it flipped the row: upkit then
   * deletes the object, and only then, so a row a cancel took meanwhile keeps its placeholder. A store resolving
   * nothing (older stores) gets the object deleted whatever happened.
   */
  markFailed(id: string, reason: string): Promise<boolean | void>
  /**
   * PENDING or FAILED -> CANCELLED with `expiresAt = until` (when the last URL signed for it has expired); resolves
   * whether it did (false for a CONFIRMED or missing row). The row is kept until then, so its key stays taken.
   */
  markCancelled(id: string, until: Date): Promise<boolean>
  /** Deletes the row if it is not CONFIRMED; resolves whether it did. */
  deleteUnconfirmed(id: string): Promise<boolean>
  /**
   * `deleteUnconfirmed` for many rows in one statement (the sweeper's abandoned rows); resolves how many it deleted.
   * Optional: without it the sweeper calls `deleteUnconfirmed` per row.
   */
  deleteUnconfirmedMany?(ids: readonly string[]): Promise<number>
  /** Deletes the row (any status) and runs `hook` in the same transaction; resolves whether a row was deleted. */
  delete(id: string, hook: (tx: TTx, row: UploadRow) => Promise<void>): Promise<boolean>
  /** CONFIRMED rows of one route, tenant and owner, oldest confirmation first. */
  listConfirmed(scope: UploadScope): Promise<UploadRow[]>
  /** PENDING rows of one route, tenant, owner and uploader that are not expired at `now`. */
  countPending(scope: UploadScope & { uploadedBy: string | null }, now: Date): Promise<number>
  /** PENDING and CANCELLED rows past their expiry and FAILED rows: what the sweeper removes, at most `limit`. */
  listAbandoned(now: Date, limit: number): Promise<{ id: string; key: string }[]>
  /** Of `keys`, those some row names (any status). */
  knownKeys(keys: readonly string[]): Promise<Set<string>>
  /** Of `keys`, those a PENDING row names. */
  pendingKeys(keys: readonly string[]): Promise<Set<string>>
  /**
   * Of `keys`, the rows that are PENDING and not expired at `now`: the sweeper confirms those whose object it found
   * complete in the bucket.
   */
  unexpiredPending(keys: readonly string[], now: Date): Promise<UploadRow[]>
  /**
   * Takes the sweeper's lease for `holder` (one id per sweep) for `leaseMs` by the store's clock, unless another
   * holder's lease is still running; resolves the scans' cursors, or null when another sweep holds it. Taken again
   * by the same holder it is renewed. Optional: without it every instance sweeps (safe, each step is idempotent,
   * only repeated) and the cursors live in the process.
   */
  claimSweep?(holder: string, leaseMs: number): Promise<SweepCursors | null>
  /** Stores the cursors and ends `holder`'s lease (a no-op for the cursors when another holder took it since). */
  releaseSweep?(holder: string, cursors: SweepCursors): Promise<void>
  /**
   * PENDING rows unexpired at `now` and created at or before `createdBefore`, after `after` in (createdAt, id)
   * order, at most `limit`: the uploads the sweeper checks for a complete object, a slice per sweep. Optional:
   * without it the sweeper checks only uploads whose object its orphan scan lists (`unexpiredPending`).
   */
  pendingToCheck?(query: PendingToCheckQuery): Promise<UploadRow[]>
  /** Answers when the store is reachable (for health checks). */
  ping(): Promise<void>
  /** Shown in health reports: what the store is, without secrets. */
  readonly describe: string
}

export type UploadStatus = 'PENDING' | 'CONFIRMED' | 'FAILED' | 'CANCELLED'

/** JSON as stored in `input`/`metadata`. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

export interface UploadScope {
  readonly route: string
  readonly tenantId: string
  readonly ownerId: string | null
}

export interface NewUploadRow extends UploadScope {
  readonly id: string
  readonly uploadedBy: string | null
  readonly key: string
  readonly fileName: string
  readonly mimeType: string
  readonly size: number
  readonly partSize: number | null
  readonly multipartUploadId: string | null
  readonly input: JsonValue
  readonly metadata: JsonValue
  readonly expiresAt: Date
}

/** One row for `insertMany`, with the quota its insert must respect (none when absent). */
export interface NewUploadEntry {
  readonly row: NewUploadRow
  readonly limits?: UploadLimits | undefined
}

/** What `insertMany` did with one entry: the row written, or the quota's refusal. */
export type InsertResult =
  | { readonly ok: true; readonly row: UploadRow }
  | { readonly ok: false; readonly error: Error }

export interface UploadRow extends NewUploadRow {
  readonly status: UploadStatus
  readonly failureReason: string | null
  readonly confirmedAt: Date | null
  /** The bucket's ETag of the object `confirm` checked (quoted, as the bucket sends it); null before confirm. */
  readonly etag: string | null
  /** Type of the stored thumbnail (its bytes are read with `findThumbnail`); null when there is none. */
  readonly thumbnailType: string | null
  readonly createdAt: Date
}

/** One row for `confirmMany`: what `confirm` would store with its flip. */
export interface ConfirmEntry {
  readonly id: string
  readonly etag: string | null
  readonly thumbnail: StoredThumbnail | null
}

/** A preview image as stored: bytes checked by the server, type as their magic bytes say. */
export interface StoredThumbnail {
  readonly bytes: Uint8Array
  readonly mimeType: string
}

/** Where the sweeper's bounded scans resume; null: from the start. */
export interface SweepCursors {
  /** The orphan scan lists the bucket after this key. */
  readonly orphanKey: string | null
  /** The confirm scan reads pending rows after this one. */
  readonly pendingRow: { readonly createdAt: Date; readonly id: string } | null
}

export interface PendingToCheckQuery {
  readonly now: Date
  readonly createdBefore: Date
  readonly after: SweepCursors['pendingRow']
  readonly limit: number
}
