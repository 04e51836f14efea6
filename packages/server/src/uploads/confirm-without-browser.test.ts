import { randomBytes } from 'node:crypto'
import { MiB } from '@upkit/core'
import { startTestBucket, startTestDatabase, type TestBucket, type TestDatabase } from '@upkit/testing'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createTestApp } from '../test-support/test-app'

// A tab closed after the last byte and before `confirm`: the sweeper confirms the complete upload itself, with the
// checks `confirm` runs and the route's `onConfirmed` once (`ctx: null`).

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...randomBytes(2000)])
const HTML = new TextEncoder().encode(`<!doctype html><script>alert(1)</script>${'x'.repeat(2000)}`)

type Request = { url: string; method: string; headers: Record<string, string> }
const send = (request: Request, body: Uint8Array | string) =>
  fetch(request.url, { method: request.method, headers: request.headers, body })

let db: TestDatabase
let bucket: TestBucket
/** Added to the real clock: the sweeper confirms only objects older than its grace (60 s). */
let clockOffsetMs = 0
/** What each `onConfirmed` saw: the upload and whether it had a request context. */
let hookCalls: { uploadId: string; ctx: unknown }[] = []
/** When set, `onConfirmed` waits for it (holding the confirming transaction open). */
let hookGate: Promise<void> | null = null
let app: ReturnType<typeof createTestApp>
let caller: ReturnType<typeof app.caller>
let taskId: string

beforeAll(async () => {
  db = await startTestDatabase()
  bucket = await startTestBucket()
  app = createTestApp(db, bucket, {
    now: () => new Date(Date.now() + clockOffsetMs),
    hooks: {
      onConfirmed: async ({ upload, ctx }) => {
        hookCalls.push({ uploadId: upload.id, ctx })
        if (hookGate) await hookGate
      },
    },
  })
  const tenant = app.tenant()
  taskId = tenant.taskId
  caller = app.caller(tenant.user)
})

afterAll(async () => {
  await bucket?.close()
  await db?.close()
})

beforeEach(async () => {
  // Each test starts with nothing pending, so a sweep's report counts only its own uploads.
  clockOffsetMs = 2 * 24 * 60 * 60 * 1000
  await app.upkit.sweep()
  clockOffsetMs = 0
  hookCalls = []
  hookGate = null
})

/** Two minutes later: past the sweeper's 60 s grace, well before the 24 h expiry. */
const sweepLater = async () => {
  clockOffsetMs = 2 * 60 * 1000
  return app.upkit.sweep()
}

async function sendSingle(fileName: string, bytes: Uint8Array, mimeType: string) {
  const created = await caller.create({
    route: 'attachment',
    input: { taskId },
    fileName,
    size: bytes.length,
    mimeType,
  })
  if (!created.signedPut) throw new Error('expected a single PUT')
  expect((await send(created.signedPut, bytes)).status).toBe(200)
  return created
}

const rowOf = (id: string) => db.prisma.upkitUpload.findUniqueOrThrow({ where: { id } })

describe('the sweeper confirms complete uploads the browser never confirmed', () => {
  it('a single PUT: after the grace, with the checks and onConfirmed once; a later confirm answers the same record', async () => {
    const created = await sendSingle('closed-tab.png', PNG, 'image/png')

    // Within the grace the browser is presumably about to confirm: left alone.
    const early = await app.upkit.sweep()
    expect(early.confirmedBySweeper).toBe(0)
    expect((await rowOf(created.upload.id)).status).toBe('PENDING')

    const report = await sweepLater()
    expect(report.confirmedBySweeper).toBe(1)
    const row = await rowOf(created.upload.id)
    expect(row.status).toBe('CONFIRMED')
    expect(row.etag).toBe((await bucket.storage.head(created.key))?.etag)
    expect(hookCalls).toEqual([{ uploadId: created.upload.id, ctx: null }])
    expect(await caller.list({ route: 'attachment', input: { taskId } })).toContainEqual(
      expect.objectContaining({ id: created.upload.id, status: 'confirmed' }),
    )

    // The browser's confirm arrives late: the same record, no second hook; a second sweep does nothing.
    const late = await caller.confirm({ uploadId: created.upload.id })
    expect(late).toMatchObject({ id: created.upload.id, status: 'confirmed' })
    expect(late.confirmedAt).toBe(row.confirmedAt?.toISOString())
    expect((await app.upkit.sweep()).confirmedBySweeper).toBe(0)
    expect(hookCalls).toHaveLength(1)
  })

  it('a completed multipart upload is confirmed; one still missing its completion is left alone', async () => {
    const big = new Uint8Array(randomBytes(33 * MiB + 7))
    const start = async (fileName: string) => {
      const created = await caller.create({
        route: 'attachment',
        input: { taskId },
        fileName,
        size: big.length,
        mimeType: 'application/octet-stream',
      })
      if (created.transfer.type !== 'multipart' || !created.s3UploadId) throw new Error('expected multipart')
      const { partSize } = created.transfer
      const parts = await Promise.all(
        created.signedParts.map(async (part) => {
          const body = big.subarray((part.partNumber - 1) * partSize, part.partNumber * partSize)
          const response = await fetch(part.url, { method: 'PUT', headers: part.headers, body })
          expect(response.status).toBe(200)
          return { partNumber: part.partNumber, etag: response.headers.get('etag') as string }
        }),
      )
      expect(parts).toHaveLength(created.transfer.partCount)
      return { created, s3UploadId: created.s3UploadId, parts }
    }
    const finished = await start('finished.bin')
    const unfinished = await start('unfinished.bin')
    const signed = await caller.sign({
      uploadId: finished.created.upload.id,
      request: { method: 'POST', key: finished.created.key, uploadId: finished.s3UploadId },
    })
    const xml = `<CompleteMultipartUpload>${finished.parts.map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${p.etag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`
    expect((await fetch(signed.url, { method: 'POST', headers: signed.headers, body: xml })).status).toBe(200)

    const report = await sweepLater()
    expect(report.confirmedBySweeper).toBe(1)
    expect((await rowOf(finished.created.upload.id)).status).toBe('CONFIRMED')
    expect((await rowOf(unfinished.created.upload.id)).status).toBe('PENDING')
    expect(hookCalls).toEqual([{ uploadId: finished.created.upload.id, ctx: null }])
    // Its parts are kept for the browser to complete.
    const multipart = await bucket.storage.listMultipartUploads({ prefix: unfinished.created.key })
    expect(multipart.map((u) => u.uploadId)).toContain(unfinished.s3UploadId)
  })

  it('leaves a missing or wrong-sized object alone and fails a wrong type as confirm would', async () => {
    const complete = await sendSingle('complete.png', PNG, 'image/png')
    const missing = await caller.create({
      route: 'attachment',
      input: { taskId },
      fileName: 'missing.png',
      size: PNG.length,
      mimeType: 'image/png',
    })
    const wrongSize = await caller.create({
      route: 'attachment',
      input: { taskId },
      fileName: 'short.png',
      size: PNG.length,
      mimeType: 'image/png',
    })
    const short = PNG.subarray(0, 100)
    await bucket.storage.putObject({
      key: wrongSize.key,
      body: short,
      contentType: 'image/png',
      contentLength: short.length,
    })
    const disguised = await sendSingle('disguised.png', HTML, 'image/png')

    const report = await sweepLater()
    expect(report.confirmedBySweeper).toBe(1)
    expect((await rowOf(complete.upload.id)).status).toBe('CONFIRMED')
    expect((await rowOf(missing.upload.id)).status).toBe('PENDING')
    expect((await rowOf(wrongSize.upload.id)).status).toBe('PENDING')
    expect((await bucket.storage.head(wrongSize.key))?.size).toBe(short.length)
    // Marked FAILED with its object deleted, as confirm does; the same sweep then removes the FAILED row.
    expect(await bucket.storage.head(disguised.key)).toBeNull()
    expect(await db.prisma.upkitUpload.count({ where: { id: disguised.upload.id } })).toBe(0)
    expect(hookCalls).toEqual([{ uploadId: complete.upload.id, ctx: null }])
  })

  it('a sweep and a confirm at the same moment confirm once and run the hook once, whoever flips first', async () => {
    const waitForHook = async (count: number) => {
      for (let i = 0; i < 500 && hookCalls.length < count; i++) await new Promise((r) => setTimeout(r, 10))
      expect(hookCalls).toHaveLength(count)
    }

    // The sweeper flips first and holds its transaction in the hook while the browser confirms.
    const first = await sendSingle('sweeper-first.png', PNG, 'image/png')
    let release = () => {}
    hookGate = new Promise<void>((resolve) => {
      release = resolve
    })
    const sweeping = sweepLater()
    await waitForHook(1)
    const confirming = caller.confirm({ uploadId: first.upload.id })
    await new Promise((r) => setTimeout(r, 200))
    release()
    const [report, answer] = await Promise.all([sweeping, confirming])
    expect(report.confirmedBySweeper).toBe(1)
    expect(answer).toMatchObject({ id: first.upload.id, status: 'confirmed' })
    expect(hookCalls).toEqual([{ uploadId: first.upload.id, ctx: null }])

    // The browser flips first and holds its transaction while the sweeper finds the complete object.
    clockOffsetMs = 0
    hookCalls = []
    const second = await sendSingle('browser-first.png', PNG, 'image/png')
    hookGate = new Promise<void>((resolve) => {
      release = resolve
    })
    clockOffsetMs = 2 * 60 * 1000
    const browser = caller.confirm({ uploadId: second.upload.id })
    await waitForHook(1)
    const sweep = app.upkit.sweep()
    await new Promise((r) => setTimeout(r, 200))
    release()
    const [confirmed, secondReport] = await Promise.all([browser, sweep])
    expect(confirmed).toMatchObject({ id: second.upload.id, status: 'confirmed' })
    expect(secondReport.confirmedBySweeper).toBe(0)
    expect(hookCalls).toHaveLength(1)
    expect(hookCalls[0]?.ctx).not.toBeNull()

    // Many at once, no gate: each upload confirmed once, its hook once.
    hookGate = null
    hookCalls = []
    clockOffsetMs = 0
    const many = await Promise.all(
      Array.from({ length: 8 }, (_, i) => sendSingle(`race-${i}.png`, PNG, 'image/png')),
    )
    clockOffsetMs = 2 * 60 * 1000
    const results = await Promise.all([
      app.upkit.sweep(),
      ...many.map((c) => caller.confirm({ uploadId: c.upload.id })),
    ])
    for (const c of many) {
      expect(hookCalls.filter((h) => h.uploadId === c.upload.id)).toHaveLength(1)
      expect((await rowOf(c.upload.id)).status).toBe('CONFIRMED')
    }
    expect(results.slice(1)).toEqual(many.map((c) => expect.objectContaining({ id: c.upload.id })))
  })

  it('checks at most maxConfirmsPerSweep uploads per sweep; the rest wait for the next one', async () => {
    const { sweep } = createTestApp(db, bucket, {
      now: () => new Date(Date.now() + 2 * 60 * 1000),
      maxConfirmsPerSweep: 2,
    }).upkit
    await Promise.all(Array.from({ length: 3 }, (_, i) => sendSingle(`bounded-${i}.png`, PNG, 'image/png')))
    expect((await sweep()).confirmedBySweeper).toBe(2)
    expect((await sweep()).confirmedBySweeper).toBe(1)
    expect((await sweep()).confirmedBySweeper).toBe(0)
  })
})
