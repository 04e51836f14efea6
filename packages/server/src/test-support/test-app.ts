import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { initTRPC, TRPCError } from '@trpc/server'
import { UpkitError, type UpkitErrorCode, type UpkitPaths } from '@upkit/core'
import { type PrismaTransactionOf, prismaUploadStore } from '@upkit/store-prisma'
import type { TestBucket, TestDatabase } from '@upkit/testing'
import { expect } from 'vitest'
import { z } from 'zod'
import { createUpkit } from '../create-upkit'
import { upkitErrorFormatter } from '../errors'
import type { HealthCheck } from '../health'
import type { QuotaFunction } from '../limits/quota'
import type { RateLimitsOptions } from '../limits/upload-limits'
import { type BucketHookArgs, uploadRoutes } from '../routes/define-routes'
import type { UploadStore } from '../store/upload-store'
import type { UploadServiceOptions } from '../uploads/upload-service'

/** A host app's context, as a real app's tRPC context would carry its session. */
export interface TestContext {
  readonly user: { readonly id: string; readonly companyId: string } | null
}

export type TestTx = PrismaTransactionOf<TestDatabase['prisma']>

/**
 * A small host app on the public API: tasks owned by companies (kept in memory: the library must not care where
 * the app keeps its rows), an attachment route and a comment-image route. Storage and store are real.
 */
export function createTestApp(
  db: TestDatabase,
  bucket: TestBucket,
  options: UploadServiceOptions & {
    store?: UploadStore<TestTx>
    context?: (req: IncomingMessage) => TestContext
    paths?: Partial<UpkitPaths>
    healthChecks?: Record<string, HealthCheck>
    quotas?: QuotaFunction<TestContext>
    rateLimits?: RateLimitsOptions
    origins?: readonly string[] | (() => readonly string[])
    confirmGraceMs?: number
    maxConfirmsPerSweep?: number
    /** Extra work in the attachment route's hooks, e.g. a hook that fails. */
    hooks?: {
      onConfirmed?: (
        args: BucketHookArgs<TestContext, TestTx, z.ZodType, { taskId: string }>,
      ) => Promise<void>
      onDeleted?: (args: BucketHookArgs<TestContext, TestTx, z.ZodType, { taskId: string }>) => Promise<void>
    }
  } = {},
) {
  const tasks = new Map<string, string>()
  const confirmedHooks: { uploadId: string; taskId: unknown }[] = []
  const route = uploadRoutes<TestContext, TestTx>()
  const taskScope = ({ ctx, input }: { ctx: TestContext; input: { taskId: string } }) => {
    if (!ctx.user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to continue.' })
    if (tasks.get(input.taskId) !== ctx.user.companyId)
      throw new UpkitError('NOT_FOUND', 'This task does not exist.')
    return {
      tenantId: ctx.user.companyId,
      ownerId: input.taskId,
      uploadedBy: ctx.user.id,
      metadata: { taskId: input.taskId },
    }
  }
  /** The app's own logo column, per company. */
  const logos = new Map<string, { bytes: Uint8Array; mimeType: string; hash: string }>()
  const companyOf = (ctx: TestContext) => {
    if (!ctx.user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to continue.' })
    return ctx.user.companyId
  }
  const routes = {
    attachment: route.bucket({
      policy: { maxSize: '5GB', types: ['*/*'], label: 'attachments' },
      input: z.object({ taskId: z.uuid() }),
      authorize: taskScope,
      onConfirmed: async (args) => {
        confirmedHooks.push({ uploadId: args.upload.id, taskId: args.metadata.taskId })
        await hooks?.onConfirmed?.(args)
      },
      onDeleted: async (args) => {
        await hooks?.onDeleted?.(args)
      },
    }),
    commentImage: route.bucket({
      policy: { maxSize: '10MB', types: ['image/*'], label: 'comment images', maxFiles: 3 },
      input: z.object({ taskId: z.uuid() }),
      authorize: taskScope,
    }),
    companyLogo: route.inline({
      policy: { label: 'logo' },
      input: z.object({ companyId: z.uuid() }),
      authorize: ({ ctx, input }) => {
        if (input.companyId !== companyOf(ctx))
          throw new UpkitError('FORBIDDEN', "Only the company's members can change its logo.")
        return { tenantId: input.companyId, ownerId: input.companyId }
      },
      onStored: ({ ownerId, image }) => {
        logos.set(ownerId, { bytes: image.bytes, mimeType: image.mimeType, hash: image.hash })
      },
      onRemoved: ({ ownerId }) => {
        logos.delete(ownerId)
      },
      load: async ({ ownerId, hash }) => {
        const logo = logos.get(ownerId)
        return logo?.hash === hash ? logo : null
      },
    }),
  }
  const t = initTRPC.context<TestContext>().create({ errorFormatter: upkitErrorFormatter })
  const { store, hooks, ...rest } = options
  const upkit = createUpkit({
    storage: bucket.storage,
    store: store ?? prismaUploadStore(db.prisma),
    routes,
    ...rest,
  })
  const appRouter = t.router({ uploads: upkit.router(t.procedure) })
  const createCaller = t.createCallerFactory(appRouter)
  return {
    upkit,
    routes,
    tasks,
    logos,
    confirmedHooks,
    appRouter,
    caller: (user: TestContext['user']) => createCaller({ user }).uploads,
    /** A company with one user and one task. */
    tenant() {
      const companyId = randomUUID()
      const taskId = randomUUID()
      tasks.set(taskId, companyId)
      return { companyId, userId: randomUUID(), taskId, user: { id: randomUUID(), companyId } }
    },
  }
}

/** Asserts the tRPC code and the domain code together: both are part of the contract. */
export async function expectRefusal(
  promise: Promise<unknown>,
  trpcCode: TRPCError['code'],
  upkitCode?: UpkitErrorCode,
) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(TRPCError)
  const trpcError = error as TRPCError
  expect(trpcError.code).toBe(trpcCode)
  expect(trpcError.message.length).toBeGreaterThan(5)
  if (upkitCode) expect((trpcError.cause as { code?: string } | undefined)?.code).toBe(upkitCode)
  return trpcError
}
