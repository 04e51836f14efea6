import { startTestBucket, startTestDatabase, type TestBucket, type TestDatabase } from '@upkit/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, expectRefusal } from '../test-support/test-app'

const TEXT = new TextEncoder().encode('not an executable')

let db: TestDatabase
let bucket: TestBucket
let app: ReturnType<typeof createTestApp>
let tenant: ReturnType<typeof app.tenant>

beforeAll(async () => {
  db = await startTestDatabase()
  bucket = await startTestBucket()
  app = createTestApp(db, bucket)
  tenant = app.tenant()
})

afterAll(async () => {
  await bucket?.close()
  await db?.close()
})

async function upload(fileName: string) {
  const ada = app.caller(tenant.user)
  const created = await ada.create({
    route: 'attachment',
    input: { taskId: tenant.taskId },
    fileName,
    size: TEXT.length,
    mimeType: 'text/plain',
  })
  const signed = created.signedPut as NonNullable<typeof created.signedPut>
  const response = await fetch(signed.url, { method: signed.method, headers: signed.headers, body: TEXT })
  expect(response.status).toBe(200)
  return ada.confirm({ uploadId: created.upload.id })
}

async function dispositionOf(uploadId: string) {
  const { url } = await app.caller(tenant.user).download({ uploadId })
  const response = await fetch(url)
  expect(response.status).toBe(200)
  return response.headers.get('content-disposition') as string
}

describe('file names through create and download', () => {
  it('stores, lists and serves a right-to-left override name as it reads, without the override', async () => {
    const confirmed = await upload('invoice\u202Etxt\u2066\u200B.exe')
    expect(confirmed.fileName).toBe('invoicetxt.exe')
    const row = await db.prisma.upkitUpload.findUniqueOrThrow({ where: { id: confirmed.id } })
    expect(row.fileName).toBe('invoicetxt.exe')
    const listed = await app
      .caller(tenant.user)
      .list({ route: 'attachment', input: { taskId: tenant.taskId } })
    expect(listed.find((u) => u.id === confirmed.id)?.fileName).toBe('invoicetxt.exe')
    expect(await dispositionOf(confirmed.id)).toBe(
      `attachment; filename="invoicetxt.exe"; filename*=UTF-8''invoicetxt.exe`,
    )
  })

  it('stores the NFC form and turns line breaks into spaces instead of refusing the upload', async () => {
    const confirmed = await upload('re\u0301sume\u0301\r\n2024.txt')
    expect(confirmed.fileName).toBe('r\u00e9sum\u00e9 2024.txt')
  })

  it('refuses a name with nothing visible in it', async () => {
    await expectRefusal(
      app.caller(tenant.user).create({
        route: 'attachment',
        input: { taskId: tenant.taskId },
        fileName: '\u202E\u200B\u0000',
        size: TEXT.length,
        mimeType: 'text/plain',
      }),
      'BAD_REQUEST',
    )
  })

  it('cleans the Content-Disposition of a row stored before names were cleaned', async () => {
    const confirmed = await upload('old.txt')
    await db.prisma.upkitUpload.update({
      where: { id: confirmed.id },
      data: { fileName: 'photo\u202Egnp.js' },
    })
    const header = await dispositionOf(confirmed.id)
    expect(header).not.toMatch(/%E2%80%AE|\u202E/)
    expect(header).toBe(`attachment; filename="photognp.js"; filename*=UTF-8''photognp.js`)
  })
})
