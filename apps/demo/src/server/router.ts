import { TRPCError } from '@trpc/server'
import { signInInputSchema } from '@upkit/core'
import { createLogosRouter, createUploadsRouter } from '@upkit/server'
import type { BucketStorage } from '@upkit/storage'
import { z } from 'zod'
import type { Prisma, PrismaClient } from './database'
import { companyProcedure, publicProcedure, router } from './trpc'

const taskListSelect = { id: true, title: true, createdAt: true } satisfies Prisma.TaskSelect
const taskSelect = { id: true, title: true, description: true, createdAt: true } satisfies Prisma.TaskSelect
const commentSelect = {
  id: true,
  body: true,
  createdAt: true,
  author: { select: { id: true, name: true } },
} satisfies Prisma.CommentSelect
const meSelect = {
  id: true,
  email: true,
  name: true,
  company: { select: { id: true, name: true, logoHash: true } },
} satisfies Prisma.UserSelect

export function createAppRouter({ prisma, storage }: { prisma: PrismaClient; storage: BucketStorage }) {
  return router({
    uploads: createUploadsRouter({ prisma, storage }),
    logos: createLogosRouter({ prisma }),
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
    comments: router({
      list: companyProcedure.input(z.object({ taskId: z.uuid() })).query(async ({ ctx, input }) => {
        await findTask(prisma, ctx.companyId, input.taskId)
        const comments = await prisma.comment.findMany({
          where: { taskId: input.taskId, companyId: ctx.companyId },
          orderBy: { createdAt: 'asc' },
          select: commentSelect,
        })
        return comments.map((c) => ({ ...c, createdAt: c.createdAt.toISOString() }))
      }),
      create: companyProcedure
        .input(
          z.object({
            taskId: z.uuid(),
            body: z.string().trim().min(1, 'Write something first.').max(10_000),
          }),
        )
        .mutation(async ({ ctx, input }) => {
          await findTask(prisma, ctx.companyId, input.taskId)
          const comment = await prisma.comment.create({
            data: { taskId: input.taskId, companyId: ctx.companyId, authorId: ctx.user.id, body: input.body },
            select: commentSelect,
          })
          return { ...comment, createdAt: comment.createdAt.toISOString() }
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
      get: companyProcedure
        .input(z.object({ taskId: z.uuid() }))
        .query(({ ctx, input }) => findTask(prisma, ctx.companyId, input.taskId)),
    }),
  })
}

/** Scoped by company: another tenant's task id answers exactly like a missing one. */
async function findTask(prisma: PrismaClient, companyId: string, taskId: string) {
  const task = await prisma.task.findFirst({ where: { id: taskId, companyId }, select: taskSelect })
  if (!task) throw new TRPCError({ code: 'NOT_FOUND', message: 'This task does not exist.' })
  return task
}

export type AppRouter = ReturnType<typeof createAppRouter>
