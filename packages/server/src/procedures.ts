import type { TRPCMutationProcedure, TRPCProcedureBuilder, TRPCQueryProcedure } from '@trpc/server'
import {
  type ConfirmManyResult,
  type CreatedUpload,
  type CreateManyResult,
  fileDescriptionSchema,
  isUpkitError,
  MAX_BATCH_FILES,
  type PublicRoutePolicy,
  type SignedPart,
  type SignedRequest,
  type StoredInlineImage,
  type UploadRecord,
  type UploadUsage,
  uploadIdSchema,
} from '@upkit/core'
import { z } from 'zod'
import { assertFormatterKeepsUpkitCode, toTRPCError } from './errors'
import type { InlineService } from './inline/inline-service'
import type { UploadLimitsService } from './limits/upload-limits'
import type { AnyRoutes, BucketRouteCall, InlineRouteCall } from './routes/define-routes'
import type { UploadService } from './uploads/upload-service'

// biome-ignore lint/suspicious/noExplicitAny: any host procedure builder; its context is checked by `router()`.
export type AnyProcedureBuilder = TRPCProcedureBuilder<any, any, any, any, any, any, any, any, any>

type Mutation<TInput, TOutput> = TRPCMutationProcedure<{ input: TInput; output: TOutput; meta: unknown }>
type Query<TInput, TOutput> = TRPCQueryProcedure<{ input: TInput; output: TOutput; meta: unknown }>
type FileFields = { fileName: string; size: number; mimeType: string }

/** upkit's procedures, typed by the app's routes; nest them in the host's router under any key. */
export type UpkitProcedures<TRoutes extends AnyRoutes> = {
  policies: Query<void, Record<keyof TRoutes & string, PublicRoutePolicy>>
  create: Mutation<BucketRouteCall<TRoutes> & FileFields, CreatedUpload>
  /** `create` for 1 to 100 files of one route call; one answer per file, in order. */
  createMany: Mutation<BucketRouteCall<TRoutes> & { files: FileFields[] }, CreateManyResult[]>
  /** A query: it changes nothing, and a reloaded page may ask it again at any time. */
  resume: Query<{ uploadId: string }, CreatedUpload>
  sign: Mutation<{ uploadId: string; request: SignRequestWire }, SignedRequest>
  signParts: Mutation<{ uploadId: string; s3UploadId: string; partNumbers: number[] }, SignedPart[]>
  confirm: Mutation<{ uploadId: string; thumbnail?: string | undefined }, UploadRecord>
  /** `confirm` for 1 to 100 uploads; one answer per upload, in order. */
  confirmMany: Mutation<
    { uploads: { uploadId: string; thumbnail?: string | undefined }[] },
    ConfirmManyResult[]
  >
  cancel: Mutation<{ uploadId: string }, { ok: true }>
  list: Query<BucketRouteCall<TRoutes>, UploadRecord[]>
  usage: Query<BucketRouteCall<TRoutes>, UploadUsage>
  download: Query<{ uploadId: string }, { url: string }>
  delete: Mutation<{ uploadId: string }, { ok: true }>
  inline: {
    set: Mutation<InlineRouteCall<TRoutes> & { imageBase64: string }, StoredInlineImage>
    remove: Mutation<InlineRouteCall<TRoutes>, { ok: true }>
  }
}

type SignRequestWire = {
  method: 'PUT' | 'POST' | 'GET' | 'DELETE'
  key: string
  uploadId?: string | undefined
  partNumber?: number | undefined
}

const signInput = z.object({
  uploadId: z.uuid(),
  request: z.object({
    method: z.enum(['PUT', 'POST', 'GET', 'DELETE']),
    key: z.string().min(1).max(1024),
    uploadId: z.string().min(1).max(1024).optional(),
    partNumber: z.number().int().min(1).max(10_000).optional(),
  }),
})

/** A confirm's input. A generous structural cap on the thumbnail; the exact checks (16 KiB decoded, with a typed
 * error) happen in the service. */
const confirmInput = uploadIdSchema.extend({
  thumbnail: z
    .string()
    .max(256 * 1024)
    .optional(),
})

/** Route inputs are validated per route by the services (each route has its own schema). */
const routeCall = z.object({ route: z.string().min(1).max(128), input: z.unknown() })

export function buildProcedures<TRoutes extends AnyRoutes>(
  base: AnyProcedureBuilder,
  services: {
    uploads: UploadService
    inline: InlineService
    policies: Record<string, PublicRoutePolicy>
    limits: UploadLimitsService
  },
): UpkitProcedures<TRoutes> {
  assertFormatterKeepsUpkitCode(base._def.config as never)
  const { uploads, inline, policies, limits } = services
  // Domain errors become tRPC errors once, here, with the original as `cause` (the formatter reads it). Host
  // middleware on `base` runs outside this, so it sees the final tRPC error.
  const procedure = base.use(async ({ next }) => {
    const result = await next()
    if (!result.ok && isUpkitError(result.error.cause)) throw toTRPCError(result.error.cause)
    return result
  })
  const procedures = {
    policies: procedure.query(() => policies),
    create: procedure
      .input(routeCall.extend(fileDescriptionSchema.shape))
      .mutation(({ ctx, input }) => uploads.create(ctx, input)),
    createMany: procedure
      .input(routeCall.extend({ files: z.array(fileDescriptionSchema).min(1).max(MAX_BATCH_FILES) }))
      .mutation(({ ctx, input }) => uploads.createMany(ctx, input)),
    resume: procedure.input(uploadIdSchema).query(({ ctx, input }) => uploads.resume(ctx, input.uploadId)),
    sign: procedure
      .input(signInput)
      .mutation(({ ctx, input }) => uploads.sign(ctx, input.uploadId, input.request)),
    signParts: procedure
      .input(
        z.object({
          uploadId: z.uuid(),
          s3UploadId: z.string().min(1).max(1024),
          partNumbers: z.array(z.number().int().min(1).max(10_000)).min(1).max(100),
        }),
      )
      .mutation(({ ctx, input }) =>
        uploads.signParts(ctx, input.uploadId, input.s3UploadId, input.partNumbers),
      ),
    confirm: procedure
      .input(confirmInput)
      .mutation(({ ctx, input }) => uploads.confirm(ctx, input.uploadId, input.thumbnail)),
    confirmMany: procedure
      .input(z.object({ uploads: z.array(confirmInput).min(1).max(MAX_BATCH_FILES) }))
      .mutation(({ ctx, input }) => uploads.confirmMany(ctx, input)),
    cancel: procedure.input(uploadIdSchema).mutation(async ({ ctx, input }) => {
      await uploads.cancel(ctx, input.uploadId)
      return { ok: true as const }
    }),
    list: procedure.input(routeCall).query(({ ctx, input }) => uploads.list(ctx, input)),
    usage: procedure.input(routeCall).query(({ ctx, input }) => limits.usage(ctx, input)),
    download: procedure.input(uploadIdSchema).query(async ({ ctx, input }) => ({
      url: await uploads.downloadUrl(ctx, input.uploadId),
    })),
    delete: procedure.input(uploadIdSchema).mutation(async ({ ctx, input }) => {
      await uploads.remove(ctx, input.uploadId)
      return { ok: true as const }
    }),
    inline: {
      set: procedure
        // A generous structural cap; the exact size check (with a typed error) happens in the service. The HTTP
        // adapter's maxBodySize caps the request before it is even parsed.
        .input(routeCall.extend({ imageBase64: z.string().max(16 * 1024 * 1024) }))
        .mutation(({ ctx, input }) => inline.set(ctx, input)),
      remove: procedure.input(routeCall).mutation(async ({ ctx, input }) => {
        await inline.remove(ctx, input)
        return { ok: true as const }
      }),
    },
  }
  return procedures as unknown as UpkitProcedures<TRoutes>
}
