import { TRPCError } from '@trpc/server'
import { UpkitError } from '@upkit/core'
import { uploadRoutes } from '@upkit/server'
import type { PrismaClient } from '@upkit/testing/prisma'
import { z } from 'zod'
import type { LegacyFixture } from '../fixtures'
import type { LegacyReference, LegacySource } from '../legacy-source'
import type { PrismaTransactionOf } from '../prisma-migration-store'

// A legacy app for the tests and the bench, without the demo's schema: its rows live in two small tables created
// with raw SQL beside upkit's own (`legacy_files`, `legacy_logos`), and it writes back through the transaction
// handle only, as a real app's source must.

export type Tx = PrismaTransactionOf<PrismaClient>

export interface TestContext {
  readonly user: { readonly id: string; readonly companyId: string } | null
}

export async function createLegacyTables(prisma: PrismaClient, fixture: LegacyFixture): Promise<void> {
  await prisma.$executeRawUnsafe(`
    CREATE TABLE legacy_files (
      id uuid PRIMARY KEY, company_id uuid NOT NULL, task_id uuid NOT NULL, route text NOT NULL,
      path text, file_name text NOT NULL, upload_id uuid UNIQUE, created_at timestamptz NOT NULL)`)
  await prisma.$executeRawUnsafe(`
    CREATE TABLE legacy_logos (
      company_id uuid PRIMARY KEY, path text, logo bytea, logo_mime_type text, logo_hash text)`)
  const files = fixture.references.filter((r) => r.source.startsWith('task-file:'))
  for (let i = 0; i < files.length; i += 5000) {
    const chunk = files.slice(i, i + 5000)
    await prisma.$executeRaw`
      INSERT INTO legacy_files (id, company_id, task_id, route, path, file_name, created_at)
      SELECT * FROM unnest(${chunk.map((r) => r.source.slice('task-file:'.length))}::uuid[],
                           ${chunk.map((r) => r.tenantId)}::uuid[], ${chunk.map((r) => r.ownerId)}::uuid[],
                           ${chunk.map((r) => r.route)}::text[], ${chunk.map((r) => r.path)}::text[],
                           ${chunk.map((r) => r.fileName)}::text[],
                           ${chunk.map((r) => (r.createdAt as Date).toISOString())}::timestamptz[])`
  }
  const logoPaths = new Map(
    fixture.references.filter((r) => r.route === 'logo').map((r) => [r.tenantId, r.path] as const),
  )
  await prisma.$executeRaw`
    INSERT INTO legacy_logos (company_id, path)
    SELECT * FROM unnest(${fixture.companyIds}::uuid[], ${fixture.companyIds.map((id) => logoPaths.get(id) ?? null)}::text[])`
}

/** The legacy app's rows as references, and their rewrite: path cleared, upload id set, in one statement. */
export function legacyTableSource(prisma: PrismaClient): LegacySource<Tx> {
  return {
    async read() {
      const files = await prisma.$queryRaw<
        {
          id: string
          company_id: string
          task_id: string
          route: string
          path: string
          file_name: string
          created_at: Date
        }[]
      >`SELECT id::text, company_id::text, task_id::text, route, path, file_name, created_at
        FROM legacy_files WHERE path IS NOT NULL`
      const logos = await prisma.$queryRaw<{ company_id: string; path: string }[]>`
        SELECT company_id::text, path FROM legacy_logos WHERE path IS NOT NULL`
      return [
        ...files.map(
          (row): LegacyReference => ({
            source: `task-file:${row.id}`,
            path: row.path,
            route: row.route,
            tenantId: row.company_id,
            ownerId: row.task_id,
            input: { taskId: row.task_id },
            fileName: row.file_name,
            createdAt: row.created_at,
          }),
        ),
        ...logos.map(
          (row): LegacyReference => ({
            source: `logo:${row.company_id}`,
            path: row.path,
            route: 'logo',
            tenantId: row.company_id,
            ownerId: row.company_id,
            input: {},
          }),
        ),
      ]
    },
    async writeBack(tx, migrated) {
      const files = migrated.flatMap((m) => (m.type === 'bucket' ? [m] : []))
      if (files.length > 0) {
        await tx.$executeRaw`
          UPDATE legacy_files AS f SET path = NULL, upload_id = u.upload_id
          FROM unnest(${files.map((m) => m.reference.source.slice('task-file:'.length))}::uuid[],
                      ${files.map((m) => m.upload.id)}::uuid[]) AS u(id, upload_id)
          WHERE f.id = u.id`
      }
      const logos = migrated.flatMap((m) => (m.type === 'inline' ? [m.reference.tenantId] : []))
      if (logos.length > 0)
        await tx.$executeRaw`UPDATE legacy_logos SET path = NULL WHERE company_id = ANY(${logos}::uuid[])`
    },
  }
}

/**
 * The legacy app's upload routes: attachments of any type, comment images, and company logos stored inline in
 * `legacy_logos` by `onStored` (with the global client: inline hooks get no transaction).
 */
export function legacyRoutes(prisma: PrismaClient, taskCompany: ReadonlyMap<string, string>) {
  const route = uploadRoutes<TestContext, Tx>()
  const taskScope = ({ ctx, input }: { ctx: TestContext; input: { taskId: string } }) => {
    if (!ctx.user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to continue.' })
    if (taskCompany.get(input.taskId) !== ctx.user.companyId)
      throw new UpkitError('NOT_FOUND', 'This task does not exist.')
    return { tenantId: ctx.user.companyId, ownerId: input.taskId, uploadedBy: ctx.user.id }
  }
  return {
    attachment: route.bucket({
      policy: { maxSize: '5GB', types: ['*/*'], label: 'attachments' },
      input: z.object({ taskId: z.uuid() }),
      authorize: taskScope,
    }),
    commentImage: route.bucket({
      policy: { maxSize: '10MB', types: ['image/*'], label: 'comment images' },
      input: z.object({ taskId: z.uuid() }),
      authorize: taskScope,
    }),
    logo: route.inline({
      policy: { label: 'logo' },
      authorize: ({ ctx }) => {
        if (!ctx.user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to continue.' })
        return { tenantId: ctx.user.companyId, ownerId: ctx.user.companyId }
      },
      onStored: async ({ ownerId, image }) => {
        await prisma.$executeRaw`
          UPDATE legacy_logos SET logo = ${Buffer.from(image.bytes)}, logo_mime_type = ${image.mimeType},
                                  logo_hash = ${image.hash}
          WHERE company_id = ${ownerId}::uuid`
      },
      onRemoved: async ({ ownerId }) => {
        await prisma.$executeRaw`
          UPDATE legacy_logos SET logo = NULL, logo_mime_type = NULL, logo_hash = NULL
          WHERE company_id = ${ownerId}::uuid`
      },
      load: async ({ ownerId, hash }) => {
        const [row] = await prisma.$queryRaw<{ logo: Uint8Array; logo_mime_type: string }[]>`
          SELECT logo, logo_mime_type FROM legacy_logos WHERE company_id = ${ownerId}::uuid AND logo_hash = ${hash}`
        return row ? { bytes: row.logo, mimeType: row.logo_mime_type } : null
      },
    }),
  }
}
