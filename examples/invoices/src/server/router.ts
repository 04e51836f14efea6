import { TRPCError } from '@trpc/server'
import { inlineImageUrl } from '@upkit/core'
import { z } from 'zod'
import { issueToken, revokeToken } from './auth'
import type { Prisma, PrismaClient } from './database'
import { memberProcedure, publicProcedure, router } from './trpc'
import type { InvoicesUpkit } from './upkit'

const vendorSelect = { id: true, name: true, logoHash: true } satisfies Prisma.VendorSelect
const invoiceSelect = {
  id: true,
  number: true,
  amountCents: true,
  currency: true,
  receiptCount: true,
  vendor: { select: vendorSelect },
} satisfies Prisma.InvoiceSelect
const memberSelect = {
  id: true,
  email: true,
  name: true,
  org: { select: { id: true, name: true } },
} satisfies Prisma.MemberSelect

export function createAppRouter({ prisma, upkit }: { prisma: PrismaClient; upkit: InvoicesUpkit }) {
  // Logos are served by upkit under their content hash; the app only builds the URL.
  const withLogoUrl = <T extends Prisma.VendorGetPayload<{ select: typeof vendorSelect }>>({
    logoHash,
    ...vendor
  }: T) => ({
    ...vendor,
    logoUrl: logoHash ? inlineImageUrl(upkit.paths, 'vendorLogo', vendor.id, logoHash) : null,
  })
  const present = ({ vendor, ...invoice }: Prisma.InvoiceGetPayload<{ select: typeof invoiceSelect }>) => ({
    ...invoice,
    vendor: withLogoUrl(vendor),
  })

  return router({
    uploads: upkit.router(memberProcedure),
    auth: router({
      /** Example sign-in: by email, no password; answers a bearer token the web app keeps in localStorage. */
      signIn: publicProcedure.input(z.object({ email: z.email().max(320) })).mutation(async ({ input }) => {
        const member = await prisma.member.findUnique({
          where: { email: input.email.toLowerCase() },
          select: { id: true },
        })
        if (!member)
          throw new TRPCError({ code: 'NOT_FOUND', message: `No member has the email ${input.email}.` })
        return { token: await issueToken(prisma, member.id) }
      }),
      signOut: memberProcedure.mutation(async ({ ctx }) => {
        await revokeToken(prisma, ctx.auth.tokenHash)
        return { ok: true }
      }),
      me: publicProcedure.query(({ ctx }) =>
        ctx.auth
          ? prisma.member.findUnique({ where: { id: ctx.auth.memberId }, select: memberSelect })
          : null,
      ),
    }),
    invoices: router({
      list: memberProcedure.query(async ({ ctx }) => {
        const invoices = await prisma.invoice.findMany({
          where: { orgId: ctx.auth.orgId },
          orderBy: { number: 'asc' },
          select: invoiceSelect,
        })
        return invoices.map(present)
      }),
      get: memberProcedure.input(z.object({ invoiceId: z.uuid() })).query(async ({ ctx, input }) => {
        const invoice = await prisma.invoice.findFirst({
          where: { id: input.invoiceId, orgId: ctx.auth.orgId },
          select: invoiceSelect,
        })
        if (!invoice) throw new TRPCError({ code: 'NOT_FOUND', message: 'This invoice does not exist.' })
        return present(invoice)
      }),
    }),
    vendors: router({
      list: memberProcedure.query(async ({ ctx }) => {
        const vendors = await prisma.vendor.findMany({
          where: { orgId: ctx.auth.orgId },
          orderBy: { name: 'asc' },
          select: vendorSelect,
        })
        return vendors.map(withLogoUrl)
      }),
    }),
  })
}

export type AppRouter = ReturnType<typeof createAppRouter>
