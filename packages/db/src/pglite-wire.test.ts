import { mkdtemp, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { servePgliteWire } from './pglite-wire.mjs'

const PORT = 5432
let db: PGlite
let dir: string
let server: { close(): Promise<void> }

beforeAll(async () => {
  db = await PGlite.create()
  dir = await mkdtemp(join(tmpdir(), 'upkit-pglite-wire-'))
  server = await servePgliteWire(db, join(dir, `.s.PGSQL.${PORT}`))
  await db.exec('CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)')
})

afterAll(async () => {
  await server.close()
  await db.close()
  await rm(dir, { recursive: true, force: true })
})

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ host: dir, port: PORT, user: 'postgres', database: 'postgres' })
  await c.connect()
  return c
}

/** A message of the wire protocol: a type byte (none for the startup message) and a length counting itself. */
function message(type: string | null, body: Buffer): Buffer {
  const head = Buffer.alloc(type === null ? 4 : 5)
  if (type !== null) head.write(type, 0)
  head.writeInt32BE(body.length + 4, type === null ? 0 : 1)
  return Buffer.concat([head, body])
}

describe('servePgliteWire', () => {
  it('runs parameterized statements, answers errors as PostgreSQL does, and goes on after one', async () => {
    const c = await client()
    try {
      await c.query('INSERT INTO notes (id, body) VALUES ($1, $2), ($3, $4)', [1, 'one', 2, 'two'])
      const rows = await c.query<{ id: number; body: string }>(
        'SELECT id, body FROM notes WHERE id >= $1 ORDER BY id',
        [1],
      )
      expect(rows.rows).toEqual([
        { id: 1, body: 'one' },
        { id: 2, body: 'two' },
      ])
      await expect(
        c.query('INSERT INTO notes (id, body) VALUES ($1, $2)', [1, 'again']),
      ).rejects.toMatchObject({
        code: '23505',
      })
      // Queued behind each other on one connection, as a pool of one sends them.
      const counts = await Promise.all(
        Array.from({ length: 20 }, (_, i) => c.query<{ n: number }>('SELECT $1::int + 1 AS n', [i])),
      )
      expect(counts.map((r) => r.rows[0]?.n)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    } finally {
      await c.end()
      await db.exec('DELETE FROM notes')
    }
  })

  it('takes messages split anywhere across chunks, and several statements in one chunk', async () => {
    const socket = connect(join(dir, `.s.PGSQL.${PORT}`))
    const received: Buffer[] = []
    socket.on('data', (chunk: Buffer) => received.push(chunk))
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    const version = Buffer.alloc(4)
    version.writeInt32BE(196608)
    const startup = message(
      null,
      Buffer.concat([version, Buffer.from('user\0postgres\0database\0postgres\0\0')]),
    )
    const queries = Buffer.concat([
      message('Q', Buffer.from("SELECT 'first-answer'\0")),
      message('Q', Buffer.from("SELECT 'second-answer'\0")),
    ])
    // The startup and all but the last 2 bytes of the first query a byte at a time, then both queries' rest in one chunk.
    const bytes = Buffer.concat([startup, queries])
    const split = startup.length + 25
    for (let i = 0; i < split; i++) {
      socket.write(bytes.subarray(i, i + 1))
      await new Promise((r) => setImmediate(r))
    }
    socket.write(bytes.subarray(split))
    const text = async () => {
      for (let tries = 0; tries < 200; tries++) {
        const all = Buffer.concat(received).toString('latin1')
        if (all.includes('second-answer')) return all
        await new Promise((r) => setTimeout(r, 10))
      }
      return Buffer.concat(received).toString('latin1')
    }
    const answer = await text()
    socket.end(message('X', Buffer.alloc(0)))
    expect(answer).toContain('first-answer')
    expect(answer).toContain('second-answer')
    expect(answer.indexOf('first-answer')).toBeLessThan(answer.indexOf('second-answer'))
  })

  it('rolls back what a client that left inside a transaction did, so the next one starts clean', async () => {
    const first = await client()
    await first.query('BEGIN')
    await first.query('INSERT INTO notes (id, body) VALUES ($1, $2)', [7, 'never committed'])
    // Gone without a word (a crash, a killed pod): no ROLLBACK, no Terminate.
    first.on('error', () => {})
    const closed = new Promise((resolve) => first.once('end', resolve))
    ;(first as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy()
    await closed
    const second = await client()
    try {
      const rows = await second.query('SELECT id FROM notes WHERE id = $1', [7])
      expect(rows.rows).toEqual([])
      expect(db.isInTransaction()).toBe(false)
    } finally {
      await second.end()
    }
  })

  it('lets a second connection wait for the first to leave, and refuses it with a PostgreSQL error past waitMs', async () => {
    const first = await client()
    let secondIn = false
    const second = client().then((c) => {
      secondIn = true
      return c
    })
    await new Promise((r) => setTimeout(r, 200))
    expect(secondIn).toBe(false)
    expect((await first.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    await first.end()
    const next = await second
    expect((await next.query<{ two: number }>('SELECT 2 AS two')).rows).toEqual([{ two: 2 }])

    const impatientDir = await mkdtemp(join(tmpdir(), 'upkit-pglite-wire-'))
    const impatient = await servePgliteWire(db, join(impatientDir, `.s.PGSQL.${PORT}`), { waitMs: 100 })
    try {
      const held = new pg.Client({ host: impatientDir, port: PORT, user: 'postgres', database: 'postgres' })
      await held.connect()
      const refused = new pg.Client({
        host: impatientDir,
        port: PORT,
        user: 'postgres',
        database: 'postgres',
      })
      await expect(refused.connect()).rejects.toThrow(/one connection at a time/)
      await held.end()
    } finally {
      await next.end()
      await impatient.close()
      await rm(impatientDir, { recursive: true, force: true })
    }
  })
})
