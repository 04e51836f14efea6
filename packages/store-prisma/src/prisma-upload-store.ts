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

// The delegate's methods are typed by the app's generated client; upkit states its own `select` and maps the
// answer, so it only needs their names. `any` here is what lets any generated client (any output path, any
// extensions) be passed without a cast.
// biome-ignore lint/suspicious/noExplicitAny: see above.
type Args = any
interface UpkitUploadDelegate {
  create(args: Args): PromiseLike<unknown>
  createManyAndReturn(args: Args): PromiseLike<unknown[]>
  findUnique(args: Args): PromiseLike<unknown>
  findMany(args: Args): PromiseLike<unknown[]>
  updateMany(args: Args): PromiseLike<{ count: number }>
  deleteMany(args: Args): PromiseLike<{ count: number }>
  count(args: Args): PromiseLike<number>
}

/** Any Prisma client whose schema includes `upkit.prisma` (so it has `upkitUpload`). */
export interface PrismaClientWithUpkit {
  readonly upkitUpload: UpkitUploadDelegate
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
      const data = { ...row, size: BigInt(row.size) }
      if (limits) return toRow(await insertWithinLimits(prisma as never, data, uploadSelect, limits))
      return toRow(await uploads.create({ data, select: uploadSelect }))
    },

    async insertMany(entries) {
      const rows = entries.map(({ row, limits }) => ({ data: { ...row, size: BigInt(row.size) }, limits }))
      const results = await insertManyWithinLimits<SelectedUpload & { id: string }>(
        prisma as never,
        rows,
        uploadSelect,
      )
      return results.map((result) => (result.ok ? { ok: true as const, row: toRow(result.row) } : result))
    },

    usage: (scope, now) => usageOf(prisma as never, scope, now),

    rateLimiter: prismaRateLimiter(prisma as unknown as PrismaRawClient),

    async find(id) {
      const row = await uploads.findUnique({ where: { id }, select: uploadSelect })
      return row ? toRow(row) : null
    },

    async findMany(ids) {
      const rows = await uploads.findMany({ where: { id: { in: [...ids] } }, select: uploadSelect })
      return rows.map(toRow)
    },

    async setMultipartUploadId(id, multipartUploadId) {
      await uploads.updateMany({ where: { id, status: 'PENDING' }, data: { multipartUploadId } })
    },

    confirm(id, now, hook, etag = null, thumbnail = null) {
      return prisma.$transaction(async (tx: TClient) => {
        const flipped = await tx.upkitUpload.updateMany({
          where: { id, status: 'PENDING', expiresAt: { gt: now } },
          data: {
            status: 'CONFIRMED',
            confirmedAt: now,
            multipartUploadId: null,
            etag,
            thumbnail: thumbnail?.bytes ?? null,
            thumbnailType: thumbnail?.mimeType ?? null,
          },
        })
        if (flipped.count === 0) return null
        const row = toRow(await tx.upkitUpload.findUnique({ where: { id }, select: uploadSelect }))
        await hook(tx as PrismaTransactionOf<TClient>, row)
        return row
      })
    },

    // One UPDATE for the whole batch: the per-row values (etag, thumbnail) travel as one JSON parameter (a single
    // text value every driver adapter passes as is, where arrays of bytes would depend on the adapter), the
    // thumbnail as base64 decoded in SQL. Then the flipped rows are read with the usual select.
    confirmMany(entries, now) {
      if (entries.length === 0) return Promise.resolve([])
      const values = JSON.stringify(
        entries.map((entry) => ({
          id: entry.id,
          etag: entry.etag,
          thumbnail: entry.thumbnail ? Buffer.from(entry.thumbnail.bytes).toString('base64') : null,
          thumbnailType: entry.thumbnail?.mimeType ?? null,
        })),
      )
      // UTC text converted in SQL, as `prismaRateLimiter` does: the columns are `timestamp` without zone.
      const at = now.toISOString()
      return prisma.$transaction(async (tx: TClient & PrismaRawClient) => {
        const flipped = await tx.$queryRaw<{ id: string }[]>`
          UPDATE "upkit_uploads" AS u
          SET "status" = 'CONFIRMED',
              "confirmedAt" = (${at}::timestamptz AT TIME ZONE 'UTC'),
              "multipartUploadId" = NULL,
              "etag" = v."etag",
              "thumbnail" = decode(v."thumbnail", 'base64'),
              "thumbnailType" = v."thumbnailType"
          FROM jsonb_to_recordset(${values}::jsonb)
            AS v("id" uuid, "etag" text, "thumbnail" text, "thumbnailType" text)
          WHERE u."id" = v."id" AND u."status" = 'PENDING'
            AND u."expiresAt" > (${at}::timestamptz AT TIME ZONE 'UTC')
          RETURNING u."id"::text AS "id"`
        if (flipped.length === 0) return []
        const rows = await tx.upkitUpload.findMany({
          where: { id: { in: flipped.map((row) => row.id) } },
          select: uploadSelect,
        })
        return rows.map(toRow)
      })
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
      await uploads.updateMany({
        where: { id, status: 'PENDING' },
        data: { status: 'FAILED', failureReason: reason },
      })
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

    countPending(scope, now) {
      return uploads.count({
        where: {
          ...scopeWhere(scope),
          uploadedBy: scope.uploadedBy,
          status: 'PENDING',
          expiresAt: { gt: now },
        },
      }) as Promise<number>
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
