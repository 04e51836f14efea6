import { TRPCError } from '@trpc/server'
import { UpkitError } from '@upkit/core'
import { uploadRoutes } from '@upkit/server'
import { z } from 'zod'
import type { Prisma, PrismaClient } from './database'
import type { InvoicesContext } from './trpc'

const route = uploadRoutes<InvoicesContext, Prisma.TransactionClient>()

/** A receipt is a scan or a photo: PDF or a raster image, content-checked (magic bytes) by upkit. */
const RECEIPT_TYPES = ['application/pdf', 'image/png', 'image/jpeg', 'image/webp']

function member(ctx: InvoicesContext) {
  if (!ctx.auth) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to continue.' })
  return ctx.auth
}

/** The example's two upload routes: receipts of an invoice (bucket) and a vendor's logo (inline). */
export function createUploadRoutes(prisma: PrismaClient, options: { maxReceiptsPerInvoice?: number } = {}) {
  const maxReceipts = options.maxReceiptsPerInvoice ?? 25
  return {
    receipt: route.bucket({
      policy: { maxSize: '20MB', types: RECEIPT_TYPES, maxFiles: 10, label: 'receipts' },
      input: z.object({ invoiceId: z.uuid() }),
      // Another organization's invoice answers exactly like a missing one, on every call (list, download too).
      authorize: async ({ ctx, input }) => {
        const { memberId, orgId } = member(ctx)
        const invoice = await prisma.invoice.findFirst({
          where: { id: input.invoiceId, orgId },
          select: { id: true, number: true },
        })
        if (!invoice) throw new UpkitError('NOT_FOUND', 'This invoice does not exist.')
        return {
          tenantId: orgId,
          ownerId: invoice.id,
          uploadedBy: memberId,
          metadata: { number: invoice.number },
        }
      },
      // In upkit's confirm transaction: the link row and the counter commit with the confirmation or not at all.
      // Counting here (not in authorize) keeps the limit exact when receipts are confirmed concurrently: the
      // increment locks the invoice row until the transaction ends.
      onConfirmed: async ({ tx, upload, input, tenantId }) => {
        await tx.invoiceReceipt.create({
          data: {
            uploadId: upload.id,
            orgId: tenantId,
            invoiceId: input.invoiceId,
            fileName: upload.fileName,
          },
          select: { uploadId: true },
        })
        const invoice = await tx.invoice.update({
          where: { id: input.invoiceId },
          data: { receiptCount: { increment: 1 } },
          select: { receiptCount: true },
        })
        if (invoice.receiptCount > maxReceipts)
          throw new UpkitError('TOO_MANY_FILES', `An invoice can have at most ${maxReceipts} receipts.`)
      },
      onDeleted: async ({ tx, upload, input }) => {
        const { count } = await tx.invoiceReceipt.deleteMany({ where: { uploadId: upload.id } })
        if (count > 0)
          await tx.invoice.update({
            where: { id: input.invoiceId },
            data: { receiptCount: { decrement: count } },
            select: { id: true },
          })
      },
    }),
    vendorLogo: route.inline({
      policy: { maxSize: '512KB', targetSize: 256, label: 'vendor logo' },
      input: z.object({ vendorId: z.uuid() }),
      authorize: async ({ ctx, input }) => {
        const { orgId } = member(ctx)
        const vendor = await prisma.vendor.findFirst({
          where: { id: input.vendorId, orgId },
          select: { id: true },
        })
        if (!vendor) throw new UpkitError('NOT_FOUND', 'This vendor does not exist.')
        return { tenantId: orgId, ownerId: vendor.id }
      },
      onStored: async ({ ownerId, image }) => {
        await prisma.vendor.update({
          where: { id: ownerId },
          data: { logo: image.bytes, logoMimeType: image.mimeType, logoHash: image.hash },
          select: { id: true },
        })
      },
      onRemoved: async ({ ownerId }) => {
        await prisma.vendor.update({
          where: { id: ownerId },
          data: { logo: null, logoMimeType: null, logoHash: null },
          select: { id: true },
        })
      },
      load: async ({ ownerId, hash }) => {
        const vendor = await prisma.vendor.findFirst({
          where: { id: ownerId, logoHash: hash },
          select: { logo: true, logoMimeType: true },
        })
        return vendor?.logo && vendor.logoMimeType
          ? { bytes: vendor.logo, mimeType: vendor.logoMimeType }
          : null
      },
    }),
  }
}
