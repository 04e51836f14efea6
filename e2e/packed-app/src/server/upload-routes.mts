import { TRPCError } from '@trpc/server'
import { uploadRoutes } from '@upkit/server'
import { z } from 'zod'
import type { Prisma } from '../generated/prisma/client.js'
import type { AppContext } from './trpc.mjs'

const route = uploadRoutes<AppContext, Prisma.TransactionClient>()

export const createUploadRoutes = () => ({
  file: route.bucket({
    policy: { maxSize: '200MB', types: ['*/*'] },
    input: z.object({ folder: z.string().min(1) }),
    authorize: ({ ctx, input }) => {
      if (!ctx.tenant) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Send an x-tenant header.' })
      return { tenantId: ctx.tenant, ownerId: input.folder, uploadedBy: ctx.tenant }
    },
  }),
})

export type AppRoutes = ReturnType<typeof createUploadRoutes>
