import { TRPCError } from '@trpc/server'
import { inlineImageUrl, resolvePaths } from '@upkit/core'
import type { RateLimiter, UpkitProcedures } from '@upkit/server'
import { z } from 'zod'
import { demoPaths } from '../shared/paths'
import type { Prisma, PrismaClient } from './database'
import { throttleSignIn } from './sign-in-throttle'
import { companyProcedure, publicProcedure, router } from './trpc'
import type { DemoRoutes } from './upload-routes'

const signInInputSchema = z.object({ email: z.email().max(320) })

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

/** The signed-in user as the web app shows it; the logo by its content-hash URL, never its bytes. */
async function me(prisma: PrismaClient, userId: string) {
  const user = await prisma.user.findUnique({ where: { id: userId }, select: meSelect })
  if (!user) return null
  const { logoHash, ...company } = user.company
  const logoUrl = logoHash
    ? inlineImageUrl(resolvePaths(demoPaths), 'companyLogo', company.id, logoHash)
    : null
  return { ...user, company: { ...company, logoUrl } }
}

export function createAppRouter({
  prisma,
  uploads,
  limiter,
}: {
  prisma: PrismaClient
  uploads: UpkitProcedures<DemoRoutes>
  /** Counts sign-in attempts (`prismaRateLimiter(prisma)`). */
  limiter: RateLimiter
}) {
  return router({
    uploads,
    auth: router({
      /** Demo sign-in: by email, no password. A real app plugs its own auth into the context instead. */
      signIn: publicProcedure.input(signInInputSchema).mutation(async ({ ctx, input }) => {
        const email = input.email.toLowerCase()
        await throttleSignIn(limiter, { email, clientAddress: ctx.clientAddress, setHeader: ctx.setHeader })
        const found = await prisma.user.findUnique({
          where: { email },
          select: { id: true },
        })
        const user = found ? await me(prisma, found.id) : null
        if (!user)
          throw new TRPCError({ code: 'NOT_FOUND', message: `No demo user has the email ${input.email}.` })
        await ctx.startSession(user.id)
        return user
      }),
      signOut: publicProcedure.mutation(async ({ ctx }) => {
        await ctx.endSession()
        return { ok: true }
      }),
      me: publicProcedure.query(async ({ ctx }) => {
        if (!ctx.user) return null
        return me(prisma, ctx.user.id)
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
