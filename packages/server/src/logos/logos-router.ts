import { UpkitError } from '@upkit/core'
import type { PrismaClient } from '@upkit/db'
import { z } from 'zod'
import { companyProcedure, router } from '../trpc'
import { createLogoService } from './logo-service'

/**
 * Procedures that name a company in their input: only its own members pass. The check lives here, once, not in
 * each handler.
 */
const ownCompanyProcedure = companyProcedure
  .input(z.object({ companyId: z.uuid() }))
  .use(({ ctx, input, next }) => {
    if (input.companyId !== ctx.companyId) {
      throw new UpkitError('FORBIDDEN', "Only the company's members can change its logo.")
    }
    return next()
  })

export function createLogosRouter({ prisma }: { prisma: PrismaClient }) {
  const logos = createLogoService({ prisma })
  return router({
    get: ownCompanyProcedure.query(({ input }) => logos.current(input.companyId)),
    set: ownCompanyProcedure
      // A generous structural cap; the exact size check (with a typed error) happens in the service. The HTTP
      // adapter's maxBodySize caps the request before it is even parsed.
      .input(z.object({ imageBase64: z.string().max(4 * 1024 * 1024) }))
      .mutation(({ input }) => logos.set(input.companyId, input.imageBase64)),
    remove: ownCompanyProcedure.mutation(async ({ input }) => {
      await logos.remove(input.companyId)
      return { ok: true as const }
    }),
  })
}

export type LogosRouter = ReturnType<typeof createLogosRouter>
