import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { main } from '@upkit/migrate'
import { createDatabaseUrl, startTestBucket, type TestBucket } from '@upkit/testing'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type DemoDatabase, openDemoDatabase, TaskFileKind } from './database'

const setupModule = fileURLToPath(new URL('./legacy-source.ts', import.meta.url))
// A PNG header (signature + IHDR, 64x32) the logo route accepts.
const png = Uint8Array.from([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 64, 0, 0, 0,
  32, 8, 6, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3,
])
const pdf = new TextEncoder().encode('%PDF-1.4\n% a legacy report\n')
const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex')

describe("the demo's legacy source", () => {
  let database: DemoDatabase
  let bucket: TestBucket
  let dir: string
  let databaseUrl: string

  beforeAll(async () => {
    databaseUrl = await createDatabaseUrl(inject('postgresAdminUrl'))
    database = await openDemoDatabase({ databaseUrl })
    bucket = await startTestBucket()
    dir = await mkdtemp(join(tmpdir(), 'upkit-demo-legacy-'))
  }, 60_000)
  afterAll(async () => {
    await database?.close()
    await bucket?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('moves TaskFile rows into uploads of their task and the legacy logo into the company, through `upkit migrate`', async () => {
    const prisma = database.prisma
    const company = await prisma.company.create({
      data: { name: 'Acme', slug: 'acme-legacy', legacyLogoPath: 'logo-acme.png' },
      select: { id: true },
    })
    const task = await prisma.task.create({
      data: { companyId: company.id, title: 'Legacy' },
      select: { id: true },
    })
    const uploadsDir = join(dir, 'uploads')
    await mkdir(join(uploadsDir, task.id, 'comments'), { recursive: true })
    await writeFile(join(uploadsDir, 'logo-acme.png'), png)
    await writeFile(join(uploadsDir, task.id, 'report.pdf'), pdf)
    await writeFile(join(uploadsDir, task.id, 'comments', 'pasted.png'), png)
    const row = (path: string, fileName: string, kind: TaskFileKind) =>
      prisma.taskFile.create({
        data: { companyId: company.id, taskId: task.id, kind, path, fileName },
        select: { id: true, createdAt: true },
      })
    const report = await row(`${task.id}/report.pdf`, 'Q3 report.pdf', TaskFileKind.ATTACHMENT)
    const pasted = await row(`${task.id}/comments/pasted.png`, 'pasted.png', TaskFileKind.COMMENT_IMAGE)
    const gone = await row(`${task.id}/gone.pdf`, 'gone.pdf', TaskFileKind.ATTACHMENT)

    const output: string[] = []
    const io = {
      stdout: { write: (text: string) => output.push(text) },
      stderr: { write: (text: string) => output.push(text) },
      cwd: dir,
      env: {
        DATABASE_URL: databaseUrl,
        S3_PROVIDER: 'local',
        S3_ENDPOINT: bucket.endpoint,
        S3_BUCKET: bucket.bucket,
        S3_ACCESS_KEY_ID: bucket.credentials.accessKeyId,
        S3_SECRET_ACCESS_KEY: bucket.credentials.secretAccessKey,
      },
    }
    const args = ['migrate', '--source', setupModule, '--uploads-dir', 'uploads', '--json']
    expect(await main(args, io), output.join('')).toBe(0)
    const result = JSON.parse(output.filter((text) => text.startsWith('{')).join(''))
    expect(result).toMatchObject({ migrated: 3, failures: [], orphans: [] })
    expect(result.missing.map((m: { source: string }) => m.source)).toEqual([`task-file:${gone.id}`])

    for (const [legacy, route, bytes, mimeType] of [
      [report, 'taskAttachment', pdf, 'application/pdf'],
      [pasted, 'commentImage', png, 'image/png'],
    ] as const) {
      const taskFile = await prisma.taskFile.findUniqueOrThrow({
        where: { id: legacy.id },
        select: { path: true, uploadId: true },
      })
      expect(taskFile.path).toBeNull()
      const upload = await prisma.upkitUpload.findUniqueOrThrow({
        where: { id: taskFile.uploadId as string },
        select: {
          id: true,
          route: true,
          tenantId: true,
          ownerId: true,
          status: true,
          key: true,
          mimeType: true,
          input: true,
          createdAt: true,
        },
      })
      expect(upload).toMatchObject({
        route,
        tenantId: company.id,
        ownerId: task.id,
        status: 'CONFIRMED',
        mimeType,
      })
      expect(upload.input).toEqual({ taskId: task.id })
      expect(upload.key).toBe(`uploads/${company.id}/${route}/${upload.id}`)
      expect(upload.createdAt).toEqual(legacy.createdAt)
      const head = await bucket.storage.head(upload.key)
      expect(head?.size).toBe(bytes.length)
      expect(head?.etag?.replace(/"/g, '')).toBe(md5(bytes))
    }
    const logo = await prisma.company.findUniqueOrThrow({
      where: { id: company.id },
      select: { legacyLogoPath: true, logo: true, logoMimeType: true, logoHash: true },
    })
    expect(logo.legacyLogoPath).toBeNull()
    expect(logo.logoMimeType).toBe('image/png')
    expect(Buffer.from(logo.logo ?? []).equals(png)).toBe(true)
    expect(logo.logoHash).toBe(createHash('sha256').update(png).digest('hex'))
    expect(
      (await prisma.taskFile.findUniqueOrThrow({ where: { id: gone.id }, select: { path: true } })).path,
    ).toBe(`${task.id}/gone.pdf`)

    // Re-run: nothing left to do.
    output.length = 0
    expect(await main(args, io), output.join('')).toBe(0)
    expect(JSON.parse(output.filter((text) => text.startsWith('{')).join(''))).toMatchObject({
      migrated: 0,
      alreadyDone: 3,
    })
  }, 60_000)
})
