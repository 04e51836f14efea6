import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { MiB } from '@upkit/core'
import { startTestBucket, startTestDatabase, type TestBucket, type TestDatabase } from '@upkit/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SweepReport } from './sweeper'
import { eachLimited } from './sweeper-scans'

// Two app processes on one PostgreSQL database and one bucket, each sweeping every second (with no confirm grace,
// so the sweepers race the clients' own confirms), while uploads go through both: created on one, confirmed on
// the other, left for the sweeper (a closed tab), cancelled, multipart. Nothing may be lost or doubled.

const instanceScript = fileURLToPath(new URL('./test-support/sweeping-instance.ts', import.meta.url))
// tsx from the db package (the server package has none of its own), as `upkit-db migration:create` loads it.
const tsx = pathToFileURL(
  createRequire(new URL('../../db/package.json', import.meta.url)).resolve('tsx'),
).href

interface Instance {
  readonly url: string
  readonly confirmed: string[]
  readonly sweeps: SweepReport[]
  readonly errors: string[]
  readonly output: () => string
  stop(): Promise<void>
}

async function startInstance(env: Record<string, string>): Promise<Instance> {
  const child: ChildProcess = spawn(process.execPath, ['--import', tsx, instanceScript], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const confirmed: string[] = []
  const sweeps: SweepReport[] = []
  const errors: string[] = []
  let output = ''
  let buffered = ''
  let markReady: (url: string) => void = () => {}
  const ready = new Promise<string>((resolve) => {
    markReady = resolve
  })
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
    buffered += chunk.toString()
    const lines = buffered.split('\n')
    buffered = lines.pop() ?? ''
    for (const line of lines) {
      if (!line.startsWith('{')) continue
      const message = JSON.parse(line) as {
        ready?: string
        confirmed?: string
        sweep?: SweepReport
        sweepError?: string
      }
      if (message.ready) markReady(message.ready)
      if (message.confirmed) confirmed.push(message.confirmed)
      if (message.sweep) sweeps.push(message.sweep)
      if (message.sweepError) errors.push(message.sweepError)
    }
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = await Promise.race([
    ready,
    exited.then(() => {
      throw new Error(`instance exited before listening:\n${output}`)
    }),
  ])
  return {
    url,
    confirmed,
    sweeps,
    errors,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await exited
    },
  }
}

type Signed = { url: string; method: string; headers: Record<string, string> }

/** A script's tRPC client: plain JSON over HTTP, the user in a header the test app reads as its session. */
function client(instance: Instance, user: { id: string; companyId: string }) {
  return async <T>(path: string, input: unknown): Promise<T> => {
    const response = await fetch(`${instance.url}/trpc/uploads.${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-test-user': JSON.stringify(user) },
      body: JSON.stringify(input),
    })
    const answer = (await response.json()) as { result?: { data: T }; error?: { message: string } }
    if (!answer.result) {
      // The instance logs the cause of a 500 (the answer says only "Something went wrong"): show it.
      throw new Error(
        `${path} -> ${response.status}: ${answer.error?.message}\ninstance output:\n${instance.output().slice(-3000)}`,
      )
    }
    return answer.result.data
  }
}

async function send(request: Signed, body: Uint8Array | string) {
  const response = await fetch(request.url, { method: request.method, headers: request.headers, body })
  if (response.status !== 200)
    throw new Error(`${request.method} -> ${response.status}: ${await response.text()}`)
  return response
}

let db: TestDatabase
let bucket: TestBucket
let instances: Instance[] = []

beforeAll(async () => {
  db = await startTestDatabase()
  bucket = await startTestBucket()
})

afterAll(async () => {
  await Promise.all(instances.map((instance) => instance.stop()))
  await bucket?.close()
  await db?.close()
})

describe('two app instances on one database and one bucket', () => {
  it('uploads through both while both sweep: each confirmed once, objects == confirmed rows, no multipart left', async () => {
    const companyId = randomUUID()
    const taskId = randomUUID()
    const user = { id: randomUUID(), companyId }
    const env = {
      DATABASE_URL: db.url,
      S3_ENDPOINT: bucket.endpoint,
      S3_BUCKET: bucket.bucket,
      S3_ACCESS_KEY_ID: bucket.credentials.accessKeyId,
      S3_SECRET_ACCESS_KEY: bucket.credentials.secretAccessKey,
      TASK_ID: taskId,
      COMPANY_ID: companyId,
    }
    instances = [await startInstance(env), await startInstance(env)]
    const [a, b] = instances.map((instance) => client(instance, user)) as [
      ReturnType<typeof client>,
      ReturnType<typeof client>,
    ]
    const create = (on: typeof a, fileName: string, size: number) =>
      on<{
        upload: { id: string }
        key: string
        signedPut: Signed | null
        s3UploadId: string | null
        transfer: { type: string; partSize: number; partCount: number }
        signedParts: { partNumber: number; url: string; headers: Record<string, string> }[]
      }>('create', {
        route: 'attachment',
        input: { taskId },
        fileName,
        size,
        mimeType: 'application/octet-stream',
      })

    const expected = new Set<string>()
    const cancelled = new Set<string>()
    const small = new Uint8Array(randomBytes(4096))
    // 60 small files: created on one instance, sent, confirmed on the other; every fifth never confirmed by its
    // client (a closed tab: a sweeper confirms it); every seventh cancelled after its bytes went up.
    await eachLimited(
      Array.from({ length: 60 }, (_, i) => i),
      8,
      async (i) => {
        const [first, second] = i % 2 === 0 ? [a, b] : [b, a]
        const created = await create(first, `file-${i}.bin`, small.length)
        if (!created.signedPut) throw new Error('expected a single PUT')
        await send(created.signedPut, small)
        if (i % 7 === 3) {
          await second('cancel', { uploadId: created.upload.id })
          cancelled.add(created.upload.id)
          return
        }
        expected.add(created.upload.id)
        if (i % 5 !== 0) await second('confirm', { uploadId: created.upload.id })
      },
    )

    // Multipart: one completed and confirmed across instances, one cancelled after its parts went up.
    const big = new Uint8Array(randomBytes(33 * MiB))
    for (const cancel of [false, true]) {
      const created = await create(a, cancel ? 'big-cancelled.bin' : 'big.bin', big.length)
      if (created.transfer.type !== 'multipart' || !created.s3UploadId) throw new Error('expected multipart')
      const { partSize } = created.transfer
      const parts = await Promise.all(
        created.signedParts.map(async (part) => {
          const body = big.subarray((part.partNumber - 1) * partSize, part.partNumber * partSize)
          const response = await send({ ...part, method: 'PUT' }, body)
          return { partNumber: part.partNumber, etag: response.headers.get('etag') as string }
        }),
      )
      if (cancel) {
        await b('cancel', { uploadId: created.upload.id })
        cancelled.add(created.upload.id)
        continue
      }
      const signed = await b<Signed>('sign', {
        uploadId: created.upload.id,
        request: { method: 'POST', key: created.key, uploadId: created.s3UploadId },
      })
      const xml = `<CompleteMultipartUpload>${parts.map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${p.etag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`
      await send(signed, xml)
      await b('confirm', { uploadId: created.upload.id })
      expected.add(created.upload.id)
    }

    // The closed tabs are the sweepers' to confirm: wait (bounded) until no upload is pending any more.
    for (let i = 0; i < 300; i++) {
      if ((await db.prisma.upkitUpload.count({ where: { status: 'PENDING' } })) === 0) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    // A sweep or two more on each instance after the last confirm, so a doubled confirm would have shown.
    const sweepsSoFar = instances.map((instance) => instance.sweeps.length)
    for (let i = 0; i < 100 && instances.some((s, n) => s.sweeps.length < (sweepsSoFar[n] ?? 0) + 2); i++)
      await new Promise((resolve) => setTimeout(resolve, 100))

    const confirmedHooks = instances.flatMap((instance) => instance.confirmed)
    expect(confirmedHooks.toSorted()).toEqual([...expected].toSorted())
    const rows = await db.prisma.upkitUpload.findMany({ select: { id: true, key: true, status: true } })
    expect(rows.filter((row) => row.status === 'PENDING')).toEqual([])
    const confirmedRows = rows.filter((row) => row.status === 'CONFIRMED')
    expect(confirmedRows.map((row) => row.id).toSorted()).toEqual([...expected].toSorted())
    expect(
      rows
        .filter((row) => row.status === 'CANCELLED')
        .map((row) => row.id)
        .toSorted(),
    ).toEqual([...cancelled].toSorted())

    // Every object is a confirmed row's or a cancelled row's empty placeholder, which keeps its key refusing late
    // PUTs until the sweeper removes both once the URLs have expired. All placeholders are still there: a confirm
    // that read an object just before a cancel replaced it refuses it, but only deletes what it marked FAILED.
    const objects: { key: string; size: number }[] = []
    for await (const object of bucket.storage.list({ prefix: 'uploads/' })) objects.push(object)
    const keysOf = (status: string) =>
      rows
        .filter((row) => row.status === status)
        .map((row) => row.key)
        .toSorted()
    expect(objects.filter((o) => o.size > 0).map((o) => o.key)).toEqual(keysOf('CONFIRMED'))
    expect(objects.filter((o) => o.size === 0).map((o) => o.key)).toEqual(keysOf('CANCELLED'))
    expect(objects).toHaveLength(keysOf('CONFIRMED').length + keysOf('CANCELLED').length)
    expect(await bucket.storage.listMultipartUploads({ prefix: 'uploads/' })).toEqual([])

    // Both instances swept, one at a time: every tick either ran or found the other's lease.
    for (const instance of instances) {
      expect(instance.errors).toEqual([])
      expect(instance.sweeps.length).toBeGreaterThan(0)
    }
    const all = instances.flatMap((instance) => instance.sweeps)
    expect(all.filter((report) => !report.skipped).length).toBeGreaterThan(0)
    expect(all.reduce((sum, report) => sum + report.confirmedBySweeper, 0)).toBeGreaterThanOrEqual(1)
  }, 180_000)
})
