import { getTRPCErrorShape, initTRPC, TRPCError } from '@trpc/server'
import { type CreatedUpload, UpkitError, type UploadRecord } from '@upkit/core'
import { prismaUploadStore } from '@upkit/store-prisma'
import { startTestBucket, startTestDatabase, type TestBucket, type TestDatabase } from '@upkit/testing'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { createUpkit } from './create-upkit'
import { upkitErrorData } from './errors'
import { uploadRoutes } from './routes/define-routes'
import { createTestApp, type TestContext } from './test-support/test-app'

let db: TestDatabase
let bucket: TestBucket

beforeAll(async () => {
  db = await startTestDatabase()
  bucket = await startTestBucket()
})

afterAll(async () => {
  await bucket?.close()
  await db?.close()
})

const route = uploadRoutes<TestContext>()
const routes = {
  invoiceReceipt: route.bucket({
    policy: { maxSize: '20MB', types: ['application/pdf', 'image/*'] },
    input: z.object({ invoiceId: z.string().min(1) }),
    authorize: ({ ctx, input }) => {
      if (!ctx.user) throw new UpkitError('UNAUTHENTICATED', 'Sign in.')
      return {
        tenantId: ctx.user.companyId,
        ownerId: input.invoiceId,
        metadata: { invoice: input.invoiceId },
      }
    },
    onConfirmed: ({ metadata }) => {
      expectTypeOf(metadata).toEqualTypeOf<{ invoice: string }>()
    },
  }),
  anyFile: route.bucket({
    policy: { maxSize: '1MB', types: ['*/*'] },
    authorize: ({ ctx }) => ({ tenantId: ctx.user?.companyId ?? 'nobody' }),
  }),
}
const user = { id: 'u1', companyId: 'c1' }
const file = { fileName: 'r.pdf', size: 10, mimeType: 'application/pdf' }

describe('composition with the host tRPC', () => {
  it("runs the host's middleware around every upkit procedure, with the host's context", async () => {
    const t = initTRPC.context<TestContext>().create({
      errorFormatter: ({ shape, error }) => ({ ...shape, data: { ...shape.data, ...upkitErrorData(error) } }),
    })
    const seen: string[] = []
    const logged = t.procedure.use(async ({ path, next }) => {
      seen.push(path)
      const result = await next()
      if (!result.ok) seen.push(`error ${result.error.code}`)
      return result
    })
    const upkit = createUpkit({ storage: bucket.storage, store: prismaUploadStore(db.prisma), routes })
    const appRouter = t.router({ files: upkit.router(logged) })
    const caller = t.createCallerFactory(appRouter)({ user })
    await caller.files.create({ route: 'invoiceReceipt', input: { invoiceId: 'inv-1' }, ...file })
    await caller.files.list({ route: 'invoiceReceipt', input: { invoiceId: 'inv-1' } }).catch(() => {})
    await caller.files.confirm({ uploadId: '00000000-0000-4000-8000-000000000000' }).catch(() => {})
    // The host's middleware sees upkit's failures as the final tRPC error, with upkit's code inside.
    expect(seen).toEqual(['files.create', 'files.list', 'files.confirm', 'error NOT_FOUND'])
  })

  it("keeps data.upkitCode through the host's own error formatter", async () => {
    const app = createTestApp(db, bucket)
    const t = initTRPC.context<TestContext>().create({
      errorFormatter: ({ shape, error }) => ({
        ...shape,
        data: { ...shape.data, ...upkitErrorData(error), app: 'x' },
      }),
    })
    const upkit = createUpkit({
      storage: bucket.storage,
      store: prismaUploadStore(db.prisma),
      routes: app.routes,
    })
    const appRouter = t.router({ uploads: upkit.router(t.procedure) })
    const caller = t.createCallerFactory(appRouter)({ user })
    const error = await caller.uploads
      .confirm({ uploadId: '00000000-0000-4000-8000-000000000000' })
      .catch((e) => e)
    expect(error).toBeInstanceOf(TRPCError)
    // What the HTTP adapter would send: the host's formatter applied to upkit's error.
    const shape = getTRPCErrorShape({
      config: appRouter._def._config,
      error: error as TRPCError,
      type: 'mutation',
      path: 'uploads.confirm',
      input: undefined,
      ctx: undefined,
    })
    expect(shape.data).toMatchObject({ code: 'NOT_FOUND', upkitCode: 'NOT_FOUND', app: 'x' })
  })

  it('refuses to start when the host formatter would drop data.upkitCode', () => {
    const upkit = createUpkit({ storage: bucket.storage, store: prismaUploadStore(db.prisma), routes })
    const plain = initTRPC.context<TestContext>().create()
    expect(() => upkit.router(plain.procedure)).toThrow(/errorFormatter drops `data.upkitCode`/)
    const custom = initTRPC.context<TestContext>().create({
      errorFormatter: ({ shape }) => ({
        message: shape.message,
        code: shape.code,
        data: { code: shape.data.code },
      }),
    })
    expect(() => upkit.router(custom.procedure)).toThrow(/upkitErrorFormatter/)
  })

  it('refuses a key prefix that would let the sweeper touch the whole bucket, and bad paths', () => {
    const options = { storage: bucket.storage, store: prismaUploadStore(db.prisma), routes }
    expect(() => createUpkit({ ...options, keyPrefix: '' })).toThrow(/cannot be empty/)
    expect(() => createUpkit({ ...options, keyPrefix: 'uploads' })).toThrow(TypeError)
    expect(() => createUpkit({ ...options, paths: { files: 'files' } })).toThrow(TypeError)
  })
})

describe('tenancy without an input to check', () => {
  it("a route that trusts the session alone still never serves another tenant's upload", async () => {
    const t = initTRPC.context<TestContext>().create({
      errorFormatter: ({ shape, error }) => ({ ...shape, data: { ...shape.data, ...upkitErrorData(error) } }),
    })
    const upkit = createUpkit({ storage: bucket.storage, store: prismaUploadStore(db.prisma), routes })
    const caller = (u: TestContext['user']) =>
      t.createCallerFactory(t.router({ uploads: upkit.router(t.procedure) }))({ user: u }).uploads
    const created = await caller(user).create({ route: 'anyFile', input: {}, ...file })
    // `anyFile`'s authorize admits every signed-in user, in their own tenant: the row's tenant must match.
    const other = caller({ id: 'u2', companyId: 'c2' })
    for (const call of [
      () => other.download({ uploadId: created.upload.id }),
      () => other.confirm({ uploadId: created.upload.id }),
      () => other.cancel({ uploadId: created.upload.id }),
      () => other.sign({ uploadId: created.upload.id, request: { method: 'PUT', key: created.key } }),
    ]) {
      const error = await call().catch((e: unknown) => e)
      expect(upkitErrorData(error as TRPCError)).toEqual({ upkitCode: 'NOT_FOUND' })
    }
    expect(await caller(user).cancel({ uploadId: created.upload.id })).toEqual({ ok: true })
  })
})

describe('types flow from the routes to the caller', () => {
  it('types route names, inputs and answers; a typo or a wrong input does not compile', () => {
    const t = initTRPC.context<TestContext>().create({
      errorFormatter: ({ shape, error }) => ({ ...shape, data: { ...shape.data, ...upkitErrorData(error) } }),
    })
    const upkit = createUpkit({ storage: bucket.storage, store: prismaUploadStore(db.prisma), routes })
    const caller = t.createCallerFactory(t.router({ uploads: upkit.router(t.procedure) }))({ user }).uploads
    type CreateInput = Parameters<typeof caller.create>[0]
    expectTypeOf<CreateInput['route']>().toEqualTypeOf<'invoiceReceipt' | 'anyFile'>()
    expectTypeOf<Extract<CreateInput, { route: 'invoiceReceipt' }>['input']>().toEqualTypeOf<{
      invoiceId: string
    }>()
    expectTypeOf(caller.create).returns.resolves.toEqualTypeOf<CreatedUpload>()
    expectTypeOf(caller.list).returns.resolves.toEqualTypeOf<UploadRecord[]>()
    const never = () => {
      // @ts-expect-error a route name that does not exist
      void caller.create({ route: 'invoiceReciept', input: { invoiceId: 'x' }, ...file })
      // @ts-expect-error the input of another route
      void caller.create({ route: 'invoiceReceipt', input: { taskId: 'x' }, ...file })
      // @ts-expect-error an inline route is not a bucket route
      void caller.list({ route: 'companyLogo', input: {} })
    }
    expect(never).toBeTypeOf('function')
  })

  it("does not compile against a base procedure whose context is not the routes' context", () => {
    const other = initTRPC.context<{ session: string }>().create()
    const upkit = createUpkit({ storage: bucket.storage, store: prismaUploadStore(db.prisma), routes })
    const wrong = () => {
      // @ts-expect-error the routes' authorize expects TestContext
      upkit.router(other.procedure)
    }
    expect(wrong).toBeTypeOf('function')
  })
})
