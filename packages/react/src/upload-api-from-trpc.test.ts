import { createTRPCClient } from '@trpc/client'
import { initTRPC } from '@trpc/server'
import type {
  ConfirmManyResult,
  CreatedUpload,
  CreateManyResult,
  PublicRoutePolicy,
  SignedPart,
  SignedRequest,
  SignRequestInput,
  StoredInlineImage,
  UploadApi,
  UploadRecord,
  UploadUsage,
} from '@upkit/core'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { type RouteCallsOf, uploadApiFromTRPC } from './upload-api-from-trpc'

/**
 * A stand-in for upkit's server router with two routes, built with tRPC itself so the client's types are the
 * real ones. The type checks run in `tsc -p packages/react` (this file is in `src`); the runtime test checks
 * what each method calls.
 */
type BucketCall = { route: 'taskAttachment'; input: { taskId: string } }
type InlineCall = { route: 'companyLogo'; input: Record<string, never> }
type AppCall = BucketCall | InlineCall

const t = initTRPC.create()
const typed =
  <T>() =>
  (value: unknown) =>
    value as T
const uploadsRouter = t.router({
  policies: t.procedure.query(() => ({}) as Record<string, PublicRoutePolicy>),
  create: t.procedure
    .input(typed<BucketCall & { fileName: string; size: number; mimeType: string }>())
    .mutation(() => ({}) as CreatedUpload),
  createMany: t.procedure
    .input(typed<BucketCall & { files: { fileName: string; size: number; mimeType: string }[] }>())
    .mutation(() => [] as CreateManyResult[]),
  resume: t.procedure.input(typed<{ uploadId: string }>()).query(() => ({}) as CreatedUpload),
  sign: t.procedure
    .input(typed<{ uploadId: string; request: SignRequestInput }>())
    .mutation(() => ({}) as SignedRequest),
  signParts: t.procedure
    .input(typed<{ uploadId: string; s3UploadId: string; partNumbers: number[] }>())
    .mutation(() => [] as SignedPart[]),
  confirm: t.procedure.input(typed<{ uploadId: string }>()).mutation(() => ({}) as UploadRecord),
  confirmMany: t.procedure
    .input(typed<{ uploads: { uploadId: string; thumbnail?: string }[] }>())
    .mutation(() => [] as ConfirmManyResult[]),
  cancel: t.procedure.input(typed<{ uploadId: string }>()).mutation(() => ({ ok: true })),
  list: t.procedure.input(typed<AppCall>()).query(() => [] as UploadRecord[]),
  usage: t.procedure.input(typed<BucketCall>()).query(() => ({}) as UploadUsage),
  download: t.procedure.input(typed<{ uploadId: string }>()).query(() => ({ url: '' })),
  delete: t.procedure.input(typed<{ uploadId: string }>()).mutation(() => ({ ok: true })),
  inline: t.router({
    set: t.procedure
      .input(typed<InlineCall & { imageBase64: string }>())
      .mutation(() => ({}) as StoredInlineImage),
    remove: t.procedure.input(typed<AppCall>()).mutation(() => ({ ok: true })),
  }),
})
const appRouter = t.router({ uploads: uploadsRouter })
type AppRouter = typeof appRouter

describe('uploadApiFromTRPC', () => {
  it('infers the route calls from the server router: bucket routes from create, inline ones from inline.set', () => {
    const client = createTRPCClient<AppRouter>({ links: [] })
    const api = uploadApiFromTRPC(client.uploads)
    expectTypeOf<RouteCallsOf<typeof client.uploads>>().toEqualTypeOf<
      | { route: 'taskAttachment'; input: { taskId: string } }
      | { route: 'companyLogo'; input: Record<string, never> }
    >()
    expectTypeOf(api).toEqualTypeOf<UploadApi<AppCall>>()

    // Never called: these lines only have to compile, or fail to compile where marked.
    const typeChecks = () => {
      void api.list({ route: 'taskAttachment', input: { taskId: 't' } })
      void api.setInline({ route: 'companyLogo', input: {}, imageBase64: '' })
      void api.create({
        route: 'taskAttachment',
        input: { taskId: 't' },
        fileName: 'a',
        size: 1,
        mimeType: 'x',
      })
      // @ts-expect-error a route the server does not have
      void api.list({ route: 'taskAttachments', input: { taskId: 't' } })
      // @ts-expect-error the input of another route
      void api.list({ route: 'taskAttachment', input: {} })
      // @ts-expect-error a wrong input type
      void api.list({ route: 'taskAttachment', input: { taskId: 7 } })
      // @ts-expect-error the file's fields are required by create
      void api.create({ route: 'taskAttachment', input: { taskId: 't' } })
      void api.createMany({
        route: 'taskAttachment',
        input: { taskId: 't' },
        files: [{ fileName: 'a', size: 1, mimeType: 'x' }],
      })
      // @ts-expect-error createMany takes bucket routes with their own input
      void api.createMany({ route: 'taskAttachment', input: {}, files: [] })
      void api.confirmMany({ uploads: [{ uploadId: 'u', thumbnail: 'AA==' }] })
    }
    expect(typeChecks).toBeTypeOf('function')
  })

  it('forwards each method to its procedure', async () => {
    const calls: [string, unknown][] = []
    // `create`'s input type is where the route calls are read from: here any route, any input.
    type AnyCreate = { route: string; input: unknown; fileName: string; size: number; mimeType: string }
    const mutation = <TInput = unknown>(name: string) => ({
      mutate: async (input: TInput) => {
        calls.push([name, input])
        return {} as never
      },
    })
    const query = (name: string) => ({
      query: async (input?: unknown) => {
        calls.push([name, input])
        return {} as never
      },
    })
    const api = uploadApiFromTRPC({
      policies: query('policies'),
      create: mutation<AnyCreate>('create'),
      createMany: mutation('createMany'),
      resume: query('resume'),
      sign: mutation('sign'),
      signParts: mutation('signParts'),
      confirm: mutation('confirm'),
      confirmMany: mutation('confirmMany'),
      cancel: mutation('cancel'),
      list: query('list'),
      usage: query('usage'),
      download: query('download'),
      delete: mutation('delete'),
      inline: { set: mutation('inline.set'), remove: mutation('inline.remove') },
    })
    const call = { route: 'companyLogo', input: {} }
    await api.policies()
    await api.resume({ uploadId: 'u' })
    const files = [{ fileName: 'a.pdf', size: 1, mimeType: 'application/pdf' }]
    await api.createMany({ ...call, files })
    await api.confirmMany({ uploads: [{ uploadId: 'u' }] })
    await api.list(call)
    await api.usage(call)
    await api.download({ uploadId: 'u' })
    await api.delete({ uploadId: 'u' })
    await api.setInline({ ...call, imageBase64: 'AA==' })
    await api.removeInline(call)
    expect(calls).toEqual([
      ['policies', undefined],
      ['resume', { uploadId: 'u' }],
      ['createMany', { ...call, files }],
      ['confirmMany', { uploads: [{ uploadId: 'u' }] }],
      ['list', call],
      ['usage', call],
      ['download', { uploadId: 'u' }],
      ['delete', { uploadId: 'u' }],
      ['inline.set', { ...call, imageBase64: 'AA==' }],
      ['inline.remove', call],
    ])
  })
})
