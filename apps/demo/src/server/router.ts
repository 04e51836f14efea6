import { TRPCError } from '@trpc/server'
import { signInInputSchema } from '@upkit/core'
import type { Prisma, PrismaClient } from '@upkit/db'
import { createUploadsRouter } from '@upkit/server'
import type { BucketStorage } from '@upkit/storage'
import { z } from 'zod'
import { companyProcedure, publicProcedure, router } from './trpc'

const taskListSelect = { id: true, title: true, createdAt: true } satisfies Prisma.TaskSelect
const taskSelect = { id: true, title: true, description: true, createdAt: true } satisfies Prisma.TaskSelect
const meSelect = {
  id: true,
  email: true,
  name: true,
  company: { select: { id: true, name: true, logoHash: true } },
} satisfies Prisma.UserSelect

export function createAppRouter({ prisma, storage }: { prisma: PrismaClient; storage: BucketStorage }) {
  return router({
    uploads: createUploadsRouter({ prisma, storage }),
    auth: router({
      /** Demo sign-in: by email, no password. A real app plugs its own auth into the context instead. */
      signIn: publicProcedure.input(signInInputSchema).mutation(async ({ ctx, input }) => {
        const user = await prisma.user.findUnique({
          where: { email: input.email.toLowerCase() },
          select: meSelect,
        })
        if (!user)
          throw new TRPCError({ code: 'NOT_FOUND', message: `No demo user has the email ${input.email}.` })
        ctx.setSessionCookie(user.id)
        return user
      }),
      signOut: publicProcedure.mutation(({ ctx }) => {
        ctx.setSessionCookie(null)
        return { ok: true }
      }),
      me: publicProcedure.query(async ({ ctx }) => {
        if (!ctx.user) return null
        return prisma.user.findUnique({ where: { id: ctx.user.id }, select: meSelect })
      }),
    }),
    tasks: router({
      list: companyProcedure.query(({ ctx }) =>
        prisma.task.findMany({
          where: { companyId: ctx.companyId },
          orderBy: { createdAt: 'asc' },
          select: taskListSelect,
        }),
      ),
      get: companyProcedure.input(z.object({ taskId: z.uuid() })).query(async ({ ctx, input }) => {
        // Scoped by company: another tenant's task id answers exactly like a missing one.
        const task = await prisma.task.findFirst({
          where: { id: input.taskId, companyId: ctx.companyId },
          select: taskSelect,
        })
        if (!task) throw new TRPCError({ code: 'NOT_FOUND', message: 'This task does not exist.' })
        return task
      }),
    }),
  })
}

export type AppRouter = ReturnType<typeof createAppRouter>
