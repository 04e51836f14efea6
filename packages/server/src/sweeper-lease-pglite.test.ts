import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { prismaUploadStore } from '@upkit/store-prisma'
import { PrismaClient } from '@upkit/testing/prisma'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase } from '../../db/src/index'
import type { UploadStore } from './store/upload-store'

// The sweeper's lease is one conditional upsert, chosen over an advisory lock partly so it also holds on embedded
// PGlite (the demo's default database), where every query shares one connection.

let dir: string
let database: Awaited<ReturnType<typeof createDatabase<PrismaClient>>>
let store: UploadStore<unknown>

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'upkit-lease-'))
  database = await createDatabase({
    dataDir: join(dir, 'db'),
    migrationsDir: fileURLToPath(new URL('../../testing/prisma/migrations', import.meta.url)),
    createClient: (adapter) => new PrismaClient({ adapter }),
  })
  store = prismaUploadStore(database.prisma) as UploadStore<unknown>
})

afterAll(async () => {
  await database?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('the sweep lease on PGlite', () => {
  it('one holder at a time, renewed by its holder, cursors kept across holders, taken over once expired', async () => {
    const claim = (holder: string, ms = 60_000) => store.claimSweep?.(holder, ms)
    expect(await claim('a')).toEqual({ orphanKey: null, pendingRow: null })
    expect(await claim('b')).toBeNull()
    expect(await claim('a')).not.toBeNull()

    const pendingRow = {
      createdAt: new Date('2026-11-30T12:00:00.123Z'),
      id: '0b8f4c1e-9a49-4e4c-8a51-2f1f0c9e7d21',
    }
    await store.releaseSweep?.('a', { orphanKey: 'uploads/t/attachment/x', pendingRow })
    expect(await claim('b')).toEqual({ orphanKey: 'uploads/t/attachment/x', pendingRow })
    // A release by a holder that lost the lease changes nothing.
    await store.releaseSweep?.('a', { orphanKey: null, pendingRow: null })
    expect(await claim('c')).toBeNull()

    await database.prisma.upkitSweepState.update({
      where: { name: 'uploads' },
      data: { leaseUntil: new Date(Date.now() - 60_000) },
    })
    expect(await claim('c')).toEqual({ orphanKey: 'uploads/t/attachment/x', pendingRow })
  })
})
