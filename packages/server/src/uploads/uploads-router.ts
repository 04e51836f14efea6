import { createUploadInputSchema, fileKindSchema, uploadIdSchema } from '@upkit/core'
import { z } from 'zod'
import { companyProcedure, router } from '../trpc'
import { createUploadService, type UploadServiceDeps, type UploadServiceOptions } from './upload-service'

const signInput = z.object({
  uploadId: z.uuid(),
  request: z.object({
    method: z.enum(['PUT', 'POST', 'GET', 'DELETE']),
    key: z.string().min(1).max(1024),
    uploadId: z.string().min(1).max(1024).optional(),
    partNumber: z.number().int().min(1).max(10_000).optional(),
  }),
})

export type UploadsRouterOptions = UploadServiceDeps & UploadServiceOptions

/**
 * The uploads router: create -> sign (per S3 request) -> confirm, plus list, download, cancel and delete.
 * Every procedure is a `companyProcedure`: scoped to the signed-in user's company, never to an id from input.
 */
export function createUploadsRouter({ prisma, storage, ...options }: UploadsRouterOptions) {
  const uploads = createUploadService({ prisma, storage }, options)
  return router({
    create: companyProcedure
      .input(createUploadInputSchema)
      .mutation(({ ctx, input }) => uploads.create(ctx.user, input)),
    sign: companyProcedure
      .input(signInput)
      .mutation(({ ctx, input }) => uploads.sign(ctx.companyId, input.uploadId, input.request)),
    signParts: companyProcedure
      .input(
        z.object({
          uploadId: z.uuid(),
          s3UploadId: z.string().min(1).max(1024),
          partNumbers: z.array(z.number().int().min(1).max(10_000)).min(1).max(100),
        }),
      )
      .mutation(({ ctx, input }) =>
        uploads.signParts(ctx.companyId, input.uploadId, input.s3UploadId, input.partNumbers),
      ),
    confirm: companyProcedure
      .input(uploadIdSchema)
      .mutation(({ ctx, input }) => uploads.confirm(ctx.companyId, input.uploadId)),
    cancel: companyProcedure.input(uploadIdSchema).mutation(async ({ ctx, input }) => {
      await uploads.cancel(ctx.companyId, input.uploadId)
      return { ok: true as const }
    }),
    list: companyProcedure
      .input(z.object({ taskId: z.uuid(), kind: fileKindSchema.optional() }))
      .query(({ ctx, input }) => uploads.list(ctx.companyId, input.taskId, input.kind)),
    download: companyProcedure
      .input(uploadIdSchema)
      .query(async ({ ctx, input }) => ({ url: await uploads.downloadUrl(ctx.companyId, input.uploadId) })),
    delete: companyProcedure.input(uploadIdSchema).mutation(async ({ ctx, input }) => {
      await uploads.remove(ctx.companyId, input.uploadId)
      return { ok: true as const }
    }),
  })
}

export type UploadsRouter = ReturnType<typeof createUploadsRouter>
