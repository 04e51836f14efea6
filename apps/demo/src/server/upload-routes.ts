import { TRPCError } from '@trpc/server'
import { IMAGE_TYPES, UpkitError } from '@upkit/core'
import { uploadRoutes } from '@upkit/server'
import { z } from 'zod'
import type { Prisma, PrismaClient } from './database'
import type { DemoContext } from './trpc'

const route = uploadRoutes<DemoContext, Prisma.TransactionClient>()

/** What task attachments accept: common documents and media; unknown types travel as opaque downloads. */
const ATTACHMENT_TYPES = [
  ...IMAGE_TYPES,
  'application/pdf',
  'application/zip',
  'text/plain',
  'text/csv',
  'video/mp4',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/octet-stream',
]

const taskInput = z.object({ taskId: z.uuid() })

function signedIn(ctx: DemoContext) {
  if (!ctx.user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to continue.' })
  return ctx.user
}

/** The demo's three upload routes: its rules, its authorization, its rows. */
export function createUploadRoutes(prisma: PrismaClient) {
  // A task's files belong to the task's company; another company's task answers like a missing one.
  const taskScope = async ({ ctx, input }: { ctx: DemoContext; input: { taskId: string } }) => {
    const user = signedIn(ctx)
    const task = await prisma.task.findFirst({
      where: { id: input.taskId, companyId: user.companyId },
      select: { id: true },
    })
    if (!task) throw new UpkitError('NOT_FOUND', 'This task does not exist.')
    return { tenantId: user.companyId, ownerId: task.id, uploadedBy: user.id }
  }
  return {
    taskAttachment: route.bucket({
      // 200 at once: a folder of scans dropped on the task uploads in one go.
      policy: { maxSize: '5GB', types: ATTACHMENT_TYPES, maxFiles: 200, label: 'attachments' },
      input: taskInput,
      authorize: taskScope,
    }),
    commentImage: route.bucket({
      // Pasted screenshots are 4K PNGs of a few MB: WebP at 2560 px reads the same in a comment at a tenth of it.
      policy: {
        maxSize: '10MB',
        types: [...IMAGE_TYPES],
        label: 'comment images',
        compress: { maxEdge: 2560, type: 'image/webp', quality: 0.85 },
      },
      input: taskInput,
      authorize: taskScope,
    }),
    companyLogo: route.inline({
      policy: { maxSize: '1MB', label: 'logo' },
      authorize: ({ ctx }) => {
        const user = signedIn(ctx)
        return { tenantId: user.companyId, ownerId: user.companyId }
      },
      onStored: async ({ ownerId, image }) => {
        await prisma.company.update({
          where: { id: ownerId },
          data: {
            logo: image.bytes,
            logoMimeType: image.mimeType,
            logoHash: image.hash,
            logoUpdatedAt: new Date(),
          },
          select: { id: true },
        })
      },
      onRemoved: async ({ ownerId }) => {
        await prisma.company.update({
          where: { id: ownerId },
          data: { logo: null, logoMimeType: null, logoHash: null, logoUpdatedAt: new Date() },
          select: { id: true },
        })
      },
      load: async ({ ownerId, hash }) => {
        const company = await prisma.company.findFirst({
          where: { id: ownerId, logoHash: hash },
          select: { logo: true, logoMimeType: true },
        })
        return company?.logo && company.logoMimeType
          ? { bytes: company.logo, mimeType: company.logoMimeType }
          : null
      },
    }),
  }
}

export type DemoRoutes = ReturnType<typeof createUploadRoutes>
