import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { TRPCError } from '@trpc/server'
import { pendingSchemaChanges } from '@upkit/db'
import { createDatabaseUrl, startTestBucket, type TestBucket } from '@upkit/testing'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type InvoicesDatabase, migrationsDir, openInvoicesDatabase, schemaPath } from './database'
import { createAppRouter } from './router'
import { seedInvoices } from './seed'
import { createCallerFactory, type MemberAuth } from './trpc'
import { createInvoicesUpkit } from './upkit'

const upkitSchema = fileURLToPath(
  new URL('../../../../packages/store-prisma/prisma/upkit.prisma', import.meta.url),
)

describe('the invoices schema', () => {
  // `pnpm generate` (postinstall) overwrites the copy; this catches a changed upkit.prisma without a reinstall.
  it("holds an up-to-date copy of upkit's models (run `pnpm --filter @upkit/example-invoices generate`)", async () => {
    expect(await readFile(join(schemaPath, 'upkit.prisma'), 'utf8')).toBe(await readFile(upkitSchema, 'utf8'))
  })

  it('matches its migrations (run `pnpm --filter @upkit/example-invoices migration:create <name>` if not)', async () => {
    expect(await pendingSchemaChanges(schemaPath, migrationsDir)).toBeNull()
  })
})

/** The app's router called directly, as a given member (or nobody). */
function callerOn(appRouter: ReturnType<typeof createAppRouter>) {
  const createCaller = createCallerFactory(appRouter)
  return (auth: MemberAuth | null) => createCaller({ auth })
}

// A file `%PDF-` starts with passes upkit's content check for application/pdf.
const PDF = new TextEncoder().encode('%PDF-1.4\n% a receipt\n%%EOF\n')

describe('the receipt route on PostgreSQL and a local S3 bucket', () => {
  let database: InvoicesDatabase
  let bucket: TestBucket
  let caller: ReturnType<typeof callerOn>
  let nina: MemberAuth
  let carl: MemberAuth
  let invoiceId: string

  beforeAll(async () => {
    database = await openInvoicesDatabase({
      databaseUrl: await createDatabaseUrl(inject('postgresAdminUrl')),
    })
    bucket = await startTestBucket()
    await seedInvoices(database.prisma)
    const { prisma } = database
    // One receipt per invoice, so the second confirm makes the hook refuse after it already wrote its rows.
    const upkit = createInvoicesUpkit({
      prisma,
      storage: bucket.storage,
      context: async () => ({ auth: null }),
      describeDatabase: database.describe,
      maxReceiptsPerInvoice: 1,
    })
    caller = callerOn(createAppRouter({ prisma, upkit }))
    const member = async (email: string): Promise<MemberAuth> => {
      const found = await prisma.member.findUniqueOrThrow({
        where: { email },
        select: { id: true, orgId: true },
      })
      return { memberId: found.id, orgId: found.orgId, tokenHash: 'not-used-by-callers' }
    }
    nina = await member('nina@northwind.test')
    carl = await member('carl@contoso.test')
    invoiceId = (
      await prisma.invoice.findFirstOrThrow({ where: { number: 'NW-1001' }, select: { id: true } })
    ).id
  })

  afterAll(async () => {
    await database?.close()
    await bucket?.close()
  })

  async function upload(fileName: string) {
    const created = await caller(nina).uploads.create({
      route: 'receipt',
      input: { invoiceId },
      fileName,
      size: PDF.length,
      mimeType: 'application/pdf',
    })
    const put = created.signedPut
    if (!put) throw new Error('a small file should be one signed PUT')
    const response = await fetch(put.url, { method: 'PUT', headers: put.headers, body: PDF })
    expect(response.status).toBe(200)
    return created
  }

  const receiptState = async () => ({
    receipts: await database.prisma.invoiceReceipt.findMany({
      where: { invoiceId },
      select: { uploadId: true, fileName: true },
    }),
    count: (
      await database.prisma.invoice.findUniqueOrThrow({
        where: { id: invoiceId },
        select: { receiptCount: true },
      })
    ).receiptCount,
  })

  it('links a confirmed receipt to the invoice in the confirm transaction, and rolls the link back when the hook refuses', async () => {
    const first = await upload('first.pdf')
    const confirmed = await caller(nina).uploads.confirm({ uploadId: first.upload.id })
    expect(confirmed.status).toBe('confirmed')
    expect(await receiptState()).toEqual({
      receipts: [{ uploadId: first.upload.id, fileName: 'first.pdf' }],
      count: 1,
    })

    // The hook writes the link row, increments the count past the limit and throws: nothing it wrote survives,
    // the upload is not confirmed and its object is gone.
    const second = await upload('second.pdf')
    const error = await caller(nina)
      .uploads.confirm({ uploadId: second.upload.id })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TRPCError)
    expect((error as TRPCError).message).toBe('An invoice can have at most 1 receipts.')
    expect(await receiptState()).toEqual({
      receipts: [{ uploadId: first.upload.id, fileName: 'first.pdf' }],
      count: 1,
    })
    const row = await database.prisma.upkitUpload.findUniqueOrThrow({
      where: { id: second.upload.id },
      select: { status: true },
    })
    expect(row.status).toBe('FAILED')
    expect(await bucket.storage.head(second.key)).toBeNull()
    expect(
      (await caller(nina).uploads.list({ route: 'receipt', input: { invoiceId } })).map((r) => r.id),
    ).toEqual([first.upload.id])

    // onDeleted runs in the delete transaction: link row and count go with the upload.
    await caller(nina).uploads.delete({ uploadId: first.upload.id })
    expect(await receiptState()).toEqual({ receipts: [], count: 0 })
  })

  it("answers another organization's member as if the invoice and its receipts did not exist", async () => {
    const created = await upload('private.pdf')
    await caller(nina).uploads.confirm({ uploadId: created.upload.id })
    const carls = caller(carl).uploads
    for (const attempt of [
      () => carls.list({ route: 'receipt', input: { invoiceId } }),
      () => carls.download({ uploadId: created.upload.id }),
      () => carls.delete({ uploadId: created.upload.id }),
      () =>
        carls.create({
          route: 'receipt',
          input: { invoiceId },
          fileName: 'x.pdf',
          size: 5,
          mimeType: 'application/pdf',
        }),
    ]) {
      // One at a time: a rejection nobody awaits yet would be reported as unhandled.
      const error = await attempt().then(
        () => null,
        (e: unknown) => e,
      )
      expect((error as TRPCError | null)?.code).toBe('NOT_FOUND')
    }
    expect(await caller(nina).uploads.list({ route: 'receipt', input: { invoiceId } })).toHaveLength(1)
  })
})
