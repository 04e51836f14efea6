import type { MigrationItem, MigrationStore } from './migration-store'

// Typed by the names and shapes upkit uses, so any generated client whose schema includes `upkit.prisma` fits
// without a cast (as in @upkit/store-prisma).
// biome-ignore lint/suspicious/noExplicitAny: see above.
type Args = any

/** Any Prisma client whose schema includes `upkit.prisma` (so it has `upkitMigrationItem`). */
export interface PrismaClientWithUpkitMigration {
  readonly upkitMigrationItem: { findMany(args: Args): PromiseLike<unknown[]> }
  $executeRaw(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<number>
  // biome-ignore lint/suspicious/noExplicitAny: the transaction client is the app's own type, inferred below.
  $transaction<R>(fn: (tx: any) => Promise<R>, options?: any): Promise<R>
}

/** The interactive transaction client of a Prisma client: what `LegacySource.writeBack` gets as `tx`. */
export type PrismaTransactionOf<TClient> = TClient extends {
  // biome-ignore lint/suspicious/noExplicitAny: matching Prisma's own signature.
  $transaction<R>(fn: (tx: infer T) => Promise<R>, options?: any): Promise<R>
}
  ? T
  : never

/** Rows per statement: one array per column through unnest() keeps even 5,000 rows one small statement. */
const CHUNK = 5000

/**
 * The migration's store on the app's Prisma client, on upkit's tables (`upkit_migration_items`,
 * `upkit_uploads`). Writes go through `unnest()` with one array per column rather than `createMany`: Prisma
 * spends more CPU compiling a 5,000-parameter query than the database spends inserting it, and this process's
 * CPU is what a migration of many small files runs out of.
 */
export function prismaMigrationStore<TClient extends PrismaClientWithUpkitMigration>(
  prisma: TClient,
  options: {
    /** Shown in the CLI's header. Default `'PostgreSQL (Prisma)'`; give the host, never the password. */
    describe?: string
  } = {},
): MigrationStore<PrismaTransactionOf<TClient>> {
  return {
    describe: options.describe ?? 'PostgreSQL (Prisma)',

    async items() {
      return (await prisma.upkitMigrationItem.findMany({
        select: {
          source: true,
          sourcePath: true,
          status: true,
          uploadId: true,
          key: true,
          md5: true,
          sha256: true,
        },
      })) as MigrationItem[]
    },

    async plan(items) {
      const now = new Date()
      for (let i = 0; i < items.length; i += CHUNK) {
        const chunk = items.slice(i, i + CHUNK)
        await prisma.$executeRaw`
          INSERT INTO "upkit_migration_items" ("source", "sourcePath", "uploadId", "key", "size", "updatedAt")
          SELECT u.source, u.source_path, u.upload_id, u.key, u.size, ${now}
          FROM unnest(${chunk.map((item) => item.source)}::text[], ${chunk.map((item) => item.sourcePath)}::text[],
                      ${chunk.map((item) => item.uploadId)}::uuid[], ${chunk.map((item) => item.key)}::text[],
                      ${chunk.map((item) => String(item.size))}::bigint[])
            AS u(source, source_path, upload_id, key, size)
          ON CONFLICT ("source") DO UPDATE SET
            "sourcePath" = EXCLUDED."sourcePath", "uploadId" = EXCLUDED."uploadId", "key" = EXCLUDED."key",
            "size" = EXCLUDED."size", "status" = 'PLANNED', "updatedAt" = EXCLUDED."updatedAt"`
      }
    },

    async commit(batch, writeBack) {
      const now = new Date()
      const { uploads, done, failed } = batch
      await prisma.$transaction(
        async (tx: TClient) => {
          if (uploads.length > 0) {
            const column = <T>(pick: (upload: (typeof uploads)[number]) => T) => uploads.map(pick)
            // Confirmed rows never expire (expiresAt only matters for PENDING ones); createdAt is the legacy
            // row's, sent as a UTC instant and stored as Prisma stores DateTime (UTC, without zone).
            await tx.$executeRaw`
              INSERT INTO "upkit_uploads" ("id", "route", "tenantId", "ownerId", "uploadedBy", "status", "key",
                                           "fileName", "mimeType", "size", "partSize", "input", "metadata",
                                           "expiresAt", "confirmedAt", "createdAt")
              SELECT u.id, u.route, u.tenant_id, u.owner_id, u.uploaded_by, 'CONFIRMED'::"upkit_upload_status",
                     u.key, u.file_name, u.mime_type, u.size, u.part_size, u.input::jsonb, u.metadata::jsonb,
                     ${now}, ${now}, u.created_at AT TIME ZONE 'UTC'
              FROM unnest(${column((u) => u.id)}::uuid[], ${column((u) => u.route)}::text[],
                          ${column((u) => u.tenantId)}::text[], ${column((u) => u.ownerId)}::text[],
                          ${column((u) => u.uploadedBy)}::text[], ${column((u) => u.key)}::text[],
                          ${column((u) => u.fileName)}::text[], ${column((u) => u.mimeType)}::text[],
                          ${column((u) => String(u.size))}::bigint[], ${column((u) => u.partSize)}::int[],
                          ${column((u) => JSON.stringify(u.input))}::text[],
                          ${column((u) => JSON.stringify(u.metadata))}::text[],
                          ${column((u) => u.createdAt.toISOString())}::timestamptz[])
                AS u(id, route, tenant_id, owner_id, uploaded_by, key, file_name, mime_type, size, part_size,
                     input, metadata, created_at)`
          }
          await writeBack(tx as PrismaTransactionOf<TClient>)
          if (done.length > 0) {
            await tx.$executeRaw`
              UPDATE "upkit_migration_items" AS m
              SET "status" = 'DONE', "md5" = u.md5, "sha256" = u.sha256, "size" = u.size, "error" = NULL,
                  "updatedAt" = ${now}
              FROM unnest(${done.map((d) => d.source)}::text[], ${done.map((d) => d.md5)}::text[],
                          ${done.map((d) => d.sha256)}::text[], ${done.map((d) => String(d.size))}::bigint[])
                AS u(source, md5, sha256, size)
              WHERE m.source = u.source`
          }
          if (failed.length > 0) {
            await tx.$executeRaw`
              UPDATE "upkit_migration_items" AS m SET "status" = 'FAILED', "error" = u.error, "updatedAt" = ${now}
              FROM unnest(${failed.map((f) => f.source)}::text[], ${failed.map((f) => f.error)}::text[])
                AS u(source, error)
              WHERE m.source = u.source`
          }
        },
        // A batch of a few hundred rows takes milliseconds; the margins cover a slow disk or a busy database.
        { timeout: 120_000, maxWait: 60_000 },
      )
    },
  }
}
