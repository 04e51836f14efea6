import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pendingSchemaChanges } from '@upkit/db'
import { describe, expect, it } from 'vitest'
import { startTestDatabase } from './services'

const schemaPath = fileURLToPath(new URL('../prisma/schema', import.meta.url))
const migrationsDir = fileURLToPath(new URL('../prisma/migrations', import.meta.url))
const upkitSchema = fileURLToPath(new URL('../../store-prisma/prisma/upkit.prisma', import.meta.url))

describe('the test schema', () => {
  // `pnpm generate` (postinstall) overwrites the copy; this catches a changed upkit.prisma without a reinstall.
  it("holds an up-to-date copy of upkit's models (run `pnpm --filter @upkit/testing generate` if not)", async () => {
    expect(await readFile(join(schemaPath, 'upkit.prisma'), 'utf8')).toBe(await readFile(upkitSchema, 'utf8'))
  })

  it('matches its migrations (run `pnpm --filter @upkit/testing migration:create <name>` if not)', async () => {
    expect(await pendingSchemaChanges(schemaPath, migrationsDir)).toBeNull()
  })
})

describe('startTestDatabase', () => {
  it("gives a fresh database with upkit's tables", async () => {
    const db = await startTestDatabase()
    try {
      const id = randomUUID()
      await db.prisma.upkitUpload.create({
        data: {
          id,
          route: 'test',
          tenantId: 'tenant',
          key: `tenant/test/${id}`,
          fileName: 'a.bin',
          mimeType: 'application/octet-stream',
          size: 2n ** 53n + 1n,
          input: {},
          metadata: { note: 'kept' },
          expiresAt: new Date(Date.now() + 60_000),
        },
        select: { id: true },
      })
      const row = await db.prisma.upkitUpload.findUniqueOrThrow({
        where: { id },
        select: { status: true, size: true, metadata: true },
      })
      expect(row).toEqual({ status: 'PENDING', size: 2n ** 53n + 1n, metadata: { note: 'kept' } })
      expect(await db.prisma.upkitMigrationItem.count()).toBe(0)
    } finally {
      await db.close()
    }
  })
})
