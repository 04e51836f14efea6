import type {
  JsonValue,
  NewUploadRow,
  UploadRow,
  UploadScope,
  UploadStatus,
  UploadStore,
} from '@upkit/server'
import {
  insertManyWithinLimits,
  insertWithinLimits,
  type PrismaRawClient,
  prismaRateLimiter,
  usageOf,
} from './prisma-limits'
import { prismaSweepStore } from './prisma-sweep-store'

// The delegate's methods are typed by the app's generated client; upkit states its own `select` and maps the
// answer, so it only needs their names. `any` here is what lets any generated client (any output path, any
// extensions) be passed without a cast.
// biome-ignore lint/suspicious/noExplicitAny: see above.
type Args = any
interface UpkitUploadDelegate {
  findUnique(args: Args): PromiseLike<unknown>
  findMany(args: Args): PromiseLike<unknown[]>
  updateMany(args: Args): PromiseLike<{ count: number }>
  deleteMany(args: Args): PromiseLike<{ count: number }>
  count(args: Args): PromiseLike<number>
}

/** Any Prisma client whose schema includes `upkit.prisma` (so it has `upkitUpload`). */
export interface PrismaClientWithUpkit {
  readonly upkitUpload: UpkitUploadDelegate
  // biome-ignore lint/suspicious/noExplicitAny: Prisma's own signature (positional parameters).
  $queryRawUnsafe<T = unknown>(query: string, ...values: any[]): PromiseLike<T>
  // biome-ignore lint/suspicious/noExplicitAny: the transaction client is the app's own type, inferred below.
  $transaction<R>(fn: (tx: any) => Promise<R>, options?: any): Promise<R>
}

/** The interactive transaction client of a Prisma client: what the app's hooks get as `tx`. */
export type PrismaTransactionOf<TClient> = TClient extends {
  // biome-ignore lint/suspicious/noExplicitAny: matching Prisma's own signature.
  $transaction<R>(fn: (tx: infer T) => Promise<R>, options?: any): Promise<R>
}
  ? T
  : never

/** Every column upkit reads, always selected explicitly. */
const uploadSelect = {
  id: true,
  route: true,
  tenantId: true,
  ownerId: true,
  uploadedBy: true,
  status: true,
  key: true,
  fileName: true,
  mimeType: true,
  size: true,
  partSize: true,
  multipartUploadId: true,
  input: true,
  metadata: true,
  failureReason: true,
  expiresAt: true,
  confirmedAt: true,
  etag: true,
  // The type only: the bytes are read one row at a time by `findThumbnail`, never by a list.
  thumbnailType: true,
  createdAt: true,
} as const

/**
 * The same columns for the hot paths written in SQL (`find`, `insert`, `confirm`, `confirmMany`, `countPending`):
 * one statement each where Prisma's query builder costs about twice a raw statement's CPU (measured: 0.38 vs 0.20 ms
 * per row read), and a flip plus its read is one `UPDATE ... RETURNING` instead of a transaction of four. The
 * adapter answers raw rows with the same types as the model (uuid as string, BigInt, Date, parsed JSON).
 */
const COLUMNS = Object.keys(uploadSelect)
const columnsOf = (alias: string) => COLUMNS.map((column) => `${alias}"${column}"`).join(', ')
const RETURNED = columnsOf('')
const RETURNED_U = columnsOf('u.')

/** The raw-query method every Prisma client and transaction client has. */
type PrismaRawUnsafe = Pick<PrismaRawClient, '$queryRawUnsafe'>

/**
 * Writes new PENDING rows with one `INSERT ... SELECT` over a JSON parameter (one text value, whatever the count,
 * that every driver adapter passes as is) and answers them, in the order given. `createdAt` is the app's clock, as
 * Prisma's `@default(now())` would have it, not the database session's time zone.
 */
async function writeRows(
  client: PrismaRawUnsafe,
  rows: readonly NewUploadRow[],
  /** A condition on the whole statement (parameters from $3 on): the rows are written only where it holds. */
  guard?: { readonly sql: string; readonly values: readonly unknown[] },
): Promise<UploadRow[]> {
  if (rows.length === 0) return []
  const createdAt = new Date().toISOString()
  const written = await client.$queryRawUnsafe<unknown[]>(
    `INSERT INTO "upkit_uploads" ("id", "route", "tenantId", "ownerId", "uploadedBy", "key", "fileName",
       "mimeType", "size", "partSize", "multipartUploadId", "input", "metadata", "expiresAt", "createdAt")
     SELECT "id", "route", "tenantId", "ownerId", "uploadedBy", "key", "fileName", "mimeType", "size", "partSize",
       "multipartUploadId", "input", "metadata", "expiresAt" AT TIME ZONE 'UTC', ${UTC(2)}
     FROM jsonb_to_recordset($1::jsonb) AS v("id" uuid, "route" text, "tenantId" text, "ownerId" text,
       "uploadedBy" text, "key" text, "fileName" text, "mimeType" text, "size" bigint, "partSize" int,
       "multipartUploadId" text, "input" jsonb, "metadata" jsonb, "expiresAt" timestamptz)
     ${guard ? `WHERE ${guard.sql}` : ''}
     RETURNING ${RETURNED}`,
    JSON.stringify(rows),
    createdAt,
    ...(guard?.values ?? []),
  )
  // RETURNING's order is not promised; each row is matched by its id.
  const byId = new Map(written.map((selected) => [(selected as { id: string }).id, toRow(selected)]))
  return rows.flatMap((row) => byId.get(row.id) ?? [])
}

/**
 * The WHERE of a person's unexpired PENDING rows (`countPending`), its parameters numbered from `$first`. `= NULL`
 * matches nothing: a null owner or uploader is tested with IS NULL (which keeps the index usable too).
 */
function pendingOf(scope: UploadScope & { uploadedBy: string | null }, now: Date, first: number) {
  const values: unknown[] = [scope.route, scope.tenantId, now.toISOString()]
  const equals = (column: string, value: string | null) => {
    if (value === null) return `"${column}" IS NULL`
    values.push(value)
    return `"${column}" = $${first + values.length - 1}`
  }
  const where = `${equals('ownerId', scope.ownerId)} AND ${equals('uploadedBy', scope.uploadedBy)}`
  return {
    sql: `"route" = $${first} AND "tenantId" = $${first + 1} AND ${where} AND "status" = 'PENDING'
      AND "expiresAt" > ${UTC(first + 2)}`,
    values,
  }
}

/**
 * A timestamp parameter: the columns are `timestamp` without zone (Prisma's DateTime) holding UTC, and a driver's
 * own Date serialization would use the process's time zone, so it travels as UTC text converted in SQL.
 */
const UTC = (n: number) => `($${n}::timestamptz AT TIME ZONE 'UTC')`

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

interface SelectedUpload extends Omit<UploadRow, 'size' | 'status'> {
  readonly size: bigint
  readonly status: UploadStatus
}

/** `size` is a BigInt column (files over 2 GiB); JSON cannot carry BigInt, upkit's wire types use numbers. */
function toRow(selected: unknown): UploadRow {
  const row = selected as SelectedUpload
  return {
    ...row,
    size: Number(row.size),
    input: row.input as JsonValue,
    metadata: row.metadata as JsonValue,
  }
}

function scopeWhere(scope: UploadScope) {
  return { route: scope.route, tenantId: scope.tenantId, ownerId: scope.ownerId }
}

/**
 * upkit's `UploadStore` on the app's Prisma client. The app adds `upkit.prisma` (shipped in this package) to its
 * schema folder and migrates as for any of its models; hooks get the app's own transaction client as `tx`.
 */
export function prismaUploadStore<TClient extends PrismaClientWithUpkit>(
  prisma: TClient,
  options: {
    /** Shown in health reports. Default `'PostgreSQL (Prisma)'`; give the database's host, never its password. */
    describe?: string
  } = {},
): UploadStore<PrismaTransactionOf<TClient>> {
  const uploads = prisma.upkitUpload
  return {
    describe: options.describe ?? 'PostgreSQL (Prisma)',

    async insert(row: NewUploadRow, limits) {
      const write = async (client: PrismaRawUnsafe) => (await writeRows(client, [row]))[0] as UploadRow
      if (limits) return insertWithinLimits(prisma as never, row, limits, write)
      return write(prisma)
    },

    async insertBelowPendingCap(row, maxPending, now) {
      const pending = pendingOf(row, now, 3)
      const [written] = await writeRows(prisma, [row], {
        sql: `(SELECT count(*) FROM "upkit_uploads" WHERE ${pending.sql}) < $${3 + pending.values.length}`,
        values: [...pending.values, maxPending],
      })
      return written ?? null
    },

    insertMany(entries) {
      return insertManyWithinLimits(prisma as never, entries, writeRows)
    },

    usage: (scope, now) => usageOf(prisma as never, scope, now),

    rateLimiter: prismaRateLimiter(prisma as unknown as PrismaRawClient),

    ...prismaSweepStore(prisma as never, uploadSelect, toRow),

    async find(id) {
      // Not a uuid: no row can have it (and the cast would fail the statement).
      if (!UUID.test(id)) return null
      const rows = await prisma.$queryRawUnsafe<unknown[]>(
        `SELECT ${RETURNED} FROM "upkit_uploads" WHERE "id" = $1::uuid`,
        id,
      )
      return rows[0] ? toRow(rows[0]) : null
    },

    async findMany(ids) {
      const valid = ids.filter((id) => UUID.test(id))
      if (valid.length === 0) return []
      // The ids as one JSON parameter: a text value every driver adapter passes as is (PGlite's included).
      const rows = await prisma.$queryRawUnsafe<unknown[]>(
        `SELECT ${RETURNED} FROM "upkit_uploads"
         WHERE "id" IN (SELECT jsonb_array_elements_text($1::jsonb)::uuid)`,
        JSON.stringify(valid),
      )
      return rows.map(toRow)
    },

    async setMultipartUploadId(id, multipartUploadId) {
      await uploads.updateMany({ where: { id, status: 'PENDING' }, data: { multipartUploadId } })
    },

    confirm(id, now, hook, etag = null, thumbnail = null) {
      return prisma.$transaction(async (tx: TClient) => {
        // The flip and its read in one statement; the hook then runs in the same transaction.
        const flipped = await tx.$queryRawUnsafe<unknown[]>(
          `UPDATE "upkit_uploads"
           SET "status" = 'CONFIRMED', "confirmedAt" = ${UTC(2)}, "multipartUploadId" = NULL, "etag" = $3,
               "thumbnail" = decode($4, 'base64'), "thumbnailType" = $5
           WHERE "id" = $1::uuid AND "status" = 'PENDING' AND "expiresAt" > ${UTC(2)}
           RETURNING ${RETURNED}`,
          id,
          now.toISOString(),
          etag,
          thumbnail ? Buffer.from(thumbnail.bytes).toString('base64') : null,
          thumbnail?.mimeType ?? null,
        )
        if (flipped.length === 0) return null
        const row = toRow(flipped[0])
        await hook(tx as PrismaTransactionOf<TClient>, row)
        return row
      })
    },

    // One UPDATE for the whole batch, answering the flipped rows itself (no transaction: one statement is atomic):
    // the per-row values (etag, thumbnail) travel as one JSON parameter (a single text value every driver adapter
    // passes as is, where arrays of bytes would depend on the adapter), the thumbnail as base64 decoded in SQL.
    async confirmMany(entries, now) {
      if (entries.length === 0) return []
      const values = JSON.stringify(
        entries.map((entry) => ({
          id: entry.id,
          etag: entry.etag,
          thumbnail: entry.thumbnail ? Buffer.from(entry.thumbnail.bytes).toString('base64') : null,
          thumbnailType: entry.thumbnail?.mimeType ?? null,
        })),
      )
      const rows = await prisma.$queryRawUnsafe<unknown[]>(
        `UPDATE "upkit_uploads" AS u
           SET "status" = 'CONFIRMED', "confirmedAt" = ${UTC(2)}, "multipartUploadId" = NULL, "etag" = v."etag",
               "thumbnail" = decode(v."thumbnail", 'base64'), "thumbnailType" = v."thumbnailType"
           FROM jsonb_to_recordset($1::jsonb) AS v("id" uuid, "etag" text, "thumbnail" text, "thumbnailType" text)
           WHERE u."id" = v."id" AND u."status" = 'PENDING' AND u."expiresAt" > ${UTC(2)}
           RETURNING ${RETURNED_U}`,
        values,
        now.toISOString(),
      )
      return rows.map(toRow)
    },

    async findThumbnail(id) {
      const row = (await uploads.findUnique({
        where: { id },
        select: { status: true, thumbnail: true, thumbnailType: true },
      })) as { status: UploadStatus; thumbnail: Uint8Array | null; thumbnailType: string | null } | null
      if (row?.status !== 'CONFIRMED' || row.thumbnail === null || row.thumbnailType === null) return null
      return { bytes: row.thumbnail, mimeType: row.thumbnailType }
    },

    async markFailed(id, reason) {
      const { count } = await uploads.updateMany({
        where: { id, status: 'PENDING' },
        data: { status: 'FAILED', failureReason: reason },
      })
      return count > 0
    },

    async markCancelled(id, until) {
      const { count } = await uploads.updateMany({
        where: { id, status: { in: ['PENDING', 'FAILED', 'CANCELLED'] } },
        data: { status: 'CANCELLED', expiresAt: until, multipartUploadId: null },
      })
      return count > 0
    },

    async deleteUnconfirmed(id) {
      const { count } = await uploads.deleteMany({ where: { id, status: { not: 'CONFIRMED' } } })
      return count > 0
    },

    delete(id, hook) {
      return prisma.$transaction(async (tx: TClient) => {
        const found = await tx.upkitUpload.findUnique({ where: { id }, select: uploadSelect })
        if (!found) return false
        const { count } = await tx.upkitUpload.deleteMany({ where: { id } })
        if (count === 0) return false
        await hook(tx as PrismaTransactionOf<TClient>, toRow(found))
        return true
      })
    },

    async listConfirmed(scope) {
      const rows = await uploads.findMany({
        where: { ...scopeWhere(scope), status: 'CONFIRMED' },
        orderBy: [{ confirmedAt: 'asc' }, { id: 'asc' }],
        select: uploadSelect,
      })
      return rows.map(toRow)
    },

    async countPending(scope, now) {
      const pending = pendingOf(scope, now, 1)
      const rows = await prisma.$queryRawUnsafe<{ count: number }[]>(
        `SELECT count(*)::int AS "count" FROM "upkit_uploads" WHERE ${pending.sql}`,
        ...pending.values,
      )
      return Number(rows[0]?.count ?? 0)
    },

    async listAbandoned(now, limit) {
      const rows = (await uploads.findMany({
        where: {
          OR: [{ status: { in: ['PENDING', 'CANCELLED'] }, expiresAt: { lt: now } }, { status: 'FAILED' }],
        },
        select: { id: true, key: true },
        take: limit,
      })) as { id: string; key: string }[]
      return rows
    },

    async knownKeys(keys) {
      const rows = (await uploads.findMany({ where: { key: { in: [...keys] } }, select: { key: true } })) as {
        key: string
      }[]
      return new Set(rows.map((row) => row.key))
    },

    async pendingKeys(keys) {
      const rows = (await uploads.findMany({
        where: { key: { in: [...keys] }, status: 'PENDING' },
        select: { key: true },
      })) as { key: string }[]
      return new Set(rows.map((row) => row.key))
    },

    async unexpiredPending(keys, now) {
      const rows = await uploads.findMany({
        where: { key: { in: [...keys] }, status: 'PENDING', expiresAt: { gt: now } },
        select: uploadSelect,
      })
      return rows.map(toRow)
    },

    async ping() {
      await uploads.count({ where: { id: '00000000-0000-0000-0000-000000000000' } })
    },
  }
}
