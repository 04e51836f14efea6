import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pendingSchemaChanges } from '@upkit/db'
import { describe, expect, it } from 'vitest'
import { migrationsDir, schemaPath } from './database'

const upkitSchema = fileURLToPath(
  new URL('../../../../packages/store-prisma/prisma/upkit.prisma', import.meta.url),
)

describe('the demo schema', () => {
  // `pnpm generate` (postinstall) overwrites the copy; this catches a changed upkit.prisma without a reinstall.
  it("holds an up-to-date copy of upkit's models (run `pnpm --filter @upkit/demo generate` if not)", async () => {
    expect(await readFile(join(schemaPath, 'upkit.prisma'), 'utf8')).toBe(await readFile(upkitSchema, 'utf8'))
  })

  it('matches its migrations (run `pnpm --filter @upkit/demo migration:create <name>` if not)', async () => {
    expect(await pendingSchemaChanges(schemaPath, migrationsDir)).toBeNull()
  })
})
