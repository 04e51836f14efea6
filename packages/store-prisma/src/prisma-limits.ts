import {
  type RateLimit,
  type RateLimiter,
  rateLimitHit,
  type StoredUsage,
  type UploadLimits,
  type UsageScope,
  windowStartOf,
} from '@upkit/server'

/** The raw-query half of a Prisma client (any generated client has it). */
export interface PrismaRawClient {
  // biome-ignore lint/suspicious/noExplicitAny: Prisma's own signature (tagged template values).
  $queryRaw<T = unknown>(query: TemplateStringsArray, ...values: any[]): PromiseLike<T>
  // biome-ignore lint/suspicious/noExplicitAny: Prisma's own signature (tagged template values).
  $executeRaw(query: TemplateStringsArray, ...values: any[]): PromiseLike<number>
  // biome-ignore lint/suspicious/noExplicitAny: Prisma's own signature (positional parameters).
  $queryRawUnsafe<T = unknown>(query: string, ...values: any[]): PromiseLike<T>
}

// biome-ignore lint/suspicious/noExplicitAny: the app's generated delegate, addressed by method name only.
type Args = any
interface UsageDelegate {
  groupBy(args: Args): PromiseLike<unknown[]>
}
interface UsageClient extends PrismaRawClient {
  readonly upkitUpload: UsageDelegate
}
interface TransactionalUsageClient extends UsageClient {
  // biome-ignore lint/suspicious/noExplicitAny: the app's transaction client.
  $transaction<R>(fn: (tx: any) => Promise<R>, options?: any): Promise<R>
}

/**
 * Counters in upkit's `UpkitRateLimit` table: one row per key and fixed window, bumped by a single
 * `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`, so concurrent hits from any number of app instances each get
 * their own count. Hosts can use it for their own limits too (sign-in attempts per address):
 * `prismaRateLimiter(prisma).hit(\`sign-in:${ip}\`, { limit: 10, windowMs: 15 * 60_000 })`.
 */
export function prismaRateLimiter(prisma: PrismaRawClient): RateLimiter {
  return {
    async hit(key: string, limit: RateLimit & { now?: Date }) {
      const now = limit.now ?? new Date()
      // Written as UTC text and converted in SQL: the column is `timestamp` without zone (Prisma's DateTime), and
      // a driver's own Date serialization would use the process's time zone.
      const windowStart = windowStartOf(now, limit.windowMs).toISOString()
      const rows = await prisma.$queryRaw<{ count: number }[]>`
        INSERT INTO "upkit_rate_limits" ("key", "windowStart", "count")
        VALUES (${key}, (${windowStart}::timestamptz AT TIME ZONE 'UTC'), 1)
        ON CONFLICT ("key", "windowStart") DO UPDATE SET "count" = "upkit_rate_limits"."count" + 1
        RETURNING "count"`
      return rateLimitHit(Number(rows[0]?.count ?? 1), limit, now)
    },
    // `hit` for a batch: the same upsert adding `hits` at once, so a createMany of 100 files is one statement.
    async hitMany(key: string, hits: number, limit: RateLimit & { now?: Date }) {
      const now = limit.now ?? new Date()
      const windowStart = windowStartOf(now, limit.windowMs).toISOString()
      const rows = await prisma.$queryRaw<{ count: number }[]>`
        INSERT INTO "upkit_rate_limits" ("key", "windowStart", "count")
        VALUES (${key}, (${windowStart}::timestamptz AT TIME ZONE 'UTC'), ${hits}::int)
        ON CONFLICT ("key", "windowStart") DO UPDATE SET "count" = "upkit_rate_limits"."count" + ${hits}::int
        RETURNING "count"`
      return { count: Number(rows[0]?.count ?? hits) }
    },
    async deleteWindowsBefore(before: Date) {
      return prisma.$executeRaw`
        DELETE FROM "upkit_rate_limits"
        WHERE "windowStart" < (${before.toISOString()}::timestamptz AT TIME ZONE 'UTC')`
    },
  }
}

function usageWhere(scope: UsageScope, now: Date) {
  return {
    tenantId: scope.tenantId,
    ...(scope.route === undefined ? {} : { route: scope.route }),
    ...(scope.uploadedBy === undefined ? {} : { uploadedBy: scope.uploadedBy }),
    OR: [{ status: 'CONFIRMED' }, { status: 'PENDING', expiresAt: { gt: now } }],
  }
}

interface UsageGroup {
  status: string
  _sum: { size: bigint | number | null }
  _count: { _all: number }
}

/** Used (CONFIRMED) and reserved (unexpired PENDING) bytes and files of one scope. */
export async function usageOf(client: UsageClient, scope: UsageScope, now: Date): Promise<StoredUsage> {
  const groups = (await client.upkitUpload.groupBy({
    by: ['status'],
    where: usageWhere(scope, now),
    _sum: { size: true },
    _count: { _all: true },
  })) as UsageGroup[]
  const amount = (status: string) => {
    const group = groups.find((g) => g.status === status)
    return { bytes: Number(group?._sum.size ?? 0), files: group?._count._all ?? 0 }
  }
  return { used: amount('CONFIRMED'), reserved: amount('PENDING') }
}

/**
 * Inserts the row only if it fits the limits, deciding under a transaction-scoped advisory lock per tenant:
 * concurrent creates of one tenant queue on the lock, each sees the rows the previous ones committed, so the
 * last free byte or file is given exactly once. Other tenants are not held up. `write` inserts it on the
 * transaction's client.
 */
export function insertWithinLimits<T>(
  prisma: TransactionalUsageClient,
  row: { size: number; tenantId: string },
  limits: UploadLimits,
  write: (tx: UsageClient) => Promise<T>,
): Promise<T> {
  return prisma.$transaction(
    async (tx: UsageClient) => {
      await lockTenant(tx, row.tenantId)
      const usage = await usageOf(tx, limits, limits.now)
      const files = usage.used.files + usage.reserved.files + 1
      const bytes = usage.used.bytes + usage.reserved.bytes + row.size
      if ((limits.files !== null && files > limits.files) || (limits.bytes !== null && bytes > limits.bytes))
        throw limits.refuse(usage)
      return write(tx)
    },
    // Creates of one tenant wait for each other on the lock; the defaults (2 s to start, 5 s to run) would turn
    // a burst of a few dozen parallel creates into spurious failures.
    { maxWait: 30_000, timeout: 30_000 },
  )
}

/** The per-tenant lock every quota decision is made under (one per tenant, held until the transaction ends). */
async function lockTenant(tx: PrismaRawClient, tenantId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`upkit-quota:${tenantId}`}, 0))`
}

/** A row to insert, with the quota it must respect (none when absent). */
export interface LimitedRow<R extends { size: number; tenantId: string }> {
  readonly row: R
  readonly limits?: UploadLimits | undefined
}

/**
 * `insertWithinLimits` for many rows of one tenant: under the same lock, usage is read once and the rows are
 * decided in order (a row that does not fit is refused with the usage it saw, a later smaller one may still fit),
 * then `write` inserts the accepted ones at once and answers them in order. Resolves, per row in order, the
 * written row or the refusal.
 */
export function insertManyWithinLimits<R extends { size: number; tenantId: string }, T>(
  prisma: TransactionalUsageClient,
  entries: readonly LimitedRow<R>[],
  write: (tx: UsageClient, rows: readonly R[]) => Promise<T[]>,
): Promise<({ ok: true; row: T } | { ok: false; error: Error })[]> {
  const tenants = new Set(entries.map((entry) => entry.row.tenantId))
  if (tenants.size > 1) throw new TypeError('insertMany: all rows must belong to one tenant.')
  const limits = entries.find((entry) => entry.limits)?.limits
  const decideAndWrite = async (tx: UsageClient) => {
    const decided: ({ ok: true } | { ok: false; error: Error })[] = []
    if (limits) {
      await lockTenant(tx, entries[0]?.row.tenantId as string)
      const usage = await usageOf(tx, limits, limits.now)
      let files = usage.reserved.files
      let bytes = usage.reserved.bytes
      for (const { row, limits: own } of entries) {
        const total = { files: usage.used.files + files + 1, bytes: usage.used.bytes + bytes + row.size }
        const over =
          own &&
          ((own.files !== null && total.files > own.files) || (own.bytes !== null && total.bytes > own.bytes))
        if (over) {
          // The usage this row saw: what the tenant had plus the rows of this batch accepted before it.
          decided.push({ ok: false, error: own.refuse({ used: usage.used, reserved: { files, bytes } }) })
          continue
        }
        files += 1
        bytes += row.size
        decided.push({ ok: true })
      }
    } else {
      for (const _ of entries) decided.push({ ok: true })
    }
    const written = await write(
      tx,
      entries.filter((_, i) => decided[i]?.ok).map((entry) => entry.row),
    )
    let next = 0
    return decided.map((result) => (result.ok ? { ok: true as const, row: written[next++] as T } : result))
  }
  // Without a quota nothing is decided: one statement, no transaction or lock needed.
  if (!limits) return decideAndWrite(prisma)
  return prisma.$transaction(decideAndWrite, { maxWait: 30_000, timeout: 30_000 })
}
