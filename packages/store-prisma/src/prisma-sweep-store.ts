import type { SweepCursors, UploadRow, UploadStore } from '@upkit/server'
import type { PrismaRawClient } from './prisma-limits'

// biome-ignore lint/suspicious/noExplicitAny: the app's generated delegate, addressed by method name only.
type Args = any
interface SweepClient extends PrismaRawClient {
  readonly upkitUpload: {
    findMany(args: Args): PromiseLike<unknown[]>
    deleteMany(args: Args): PromiseLike<{ count: number }>
  }
}

/** The one sweeper upkit runs; the table keys its state by name so another could share it. */
const SWEEPER = 'uploads'

interface StateRow {
  orphanCursor: string | null
  confirmCursorAt: Date | null
  confirmCursorId: string | null
}

const cursorsOf = (row: StateRow): SweepCursors => ({
  orphanKey: row.orphanCursor,
  pendingRow:
    row.confirmCursorAt && row.confirmCursorId
      ? { createdAt: row.confirmCursorAt, id: row.confirmCursorId }
      : null,
})

/**
 * The sweeper's half of the store, in `UpkitSweepState`: a lease rather than a PostgreSQL advisory lock. A session
 * lock belongs to one connection, and Prisma's pool hands each query any connection (the unlock could run on
 * another, or the lock outlive the sweep on a connection returned to the pool); a transaction-scoped lock held for
 * the whole sweep would pin a connection and keep a transaction open for minutes of bucket calls. The lease is one
 * conditional upsert on a row, so it works through any pool, on PGlite, and expires on its own when the instance
 * holding it dies. Its times are the database's clock, which every instance shares.
 *
 * `select` and `toRow` are the upload store's own, so the pending rows read here are the rows it reads.
 */
export function prismaSweepStore(
  prisma: SweepClient,
  select: object,
  toRow: (selected: unknown) => UploadRow,
): Required<Pick<UploadStore, 'claimSweep' | 'releaseSweep' | 'pendingToCheck' | 'deleteUnconfirmedMany'>> {
  return {
    async claimSweep(holder, leaseMs) {
      // The WHERE of ON CONFLICT sees the row as the last committed writer left it (the row is locked first), so
      // of two instances claiming at once exactly one gets a row back.
      const rows = await prisma.$queryRaw<StateRow[]>`
        INSERT INTO "upkit_sweep_state" ("name", "leaseHolder", "leaseUntil", "updatedAt")
        VALUES (${SWEEPER}, ${holder},
          (now() AT TIME ZONE 'UTC') + ${Math.ceil(leaseMs)}::int * interval '1 millisecond',
          (now() AT TIME ZONE 'UTC'))
        ON CONFLICT ("name") DO UPDATE
          SET "leaseHolder" = EXCLUDED."leaseHolder", "leaseUntil" = EXCLUDED."leaseUntil",
              "updatedAt" = EXCLUDED."updatedAt"
          WHERE "upkit_sweep_state"."leaseHolder" IS NULL
             OR "upkit_sweep_state"."leaseHolder" = EXCLUDED."leaseHolder"
             OR "upkit_sweep_state"."leaseUntil" < (now() AT TIME ZONE 'UTC')
        RETURNING "orphanCursor", "confirmCursorAt", "confirmCursorId"::text AS "confirmCursorId"`
      const row = rows[0]
      return row ? cursorsOf(row) : null
    },

    async releaseSweep(holder, cursors) {
      // UTC text converted in SQL, as `prismaRateLimiter` does: the columns are `timestamp` without zone.
      const at = cursors.pendingRow?.createdAt.toISOString() ?? null
      await prisma.$executeRaw`
        UPDATE "upkit_sweep_state"
        SET "leaseHolder" = NULL, "leaseUntil" = NULL, "updatedAt" = (now() AT TIME ZONE 'UTC'),
            "orphanCursor" = ${cursors.orphanKey},
            "confirmCursorAt" = (${at}::timestamptz AT TIME ZONE 'UTC'),
            "confirmCursorId" = ${cursors.pendingRow?.id ?? null}::uuid
        WHERE "name" = ${SWEEPER} AND "leaseHolder" = ${holder}`
    },

    async deleteUnconfirmedMany(ids) {
      if (ids.length === 0) return 0
      const { count } = await prisma.upkitUpload.deleteMany({
        where: { id: { in: [...ids] }, status: { not: 'CONFIRMED' } },
      })
      return count
    },

    async pendingToCheck({ now, createdBefore, after, limit }) {
      const rows = await prisma.upkitUpload.findMany({
        where: {
          status: 'PENDING',
          expiresAt: { gt: now },
          createdAt: { lte: createdBefore },
          ...(after
            ? {
                OR: [
                  { createdAt: { gt: after.createdAt } },
                  { createdAt: after.createdAt, id: { gt: after.id } },
                ],
              }
            : {}),
        },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        take: limit,
        select,
      })
      return rows.map(toRow)
    },
  }
}
