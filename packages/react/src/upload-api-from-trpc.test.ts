import type { AddressInfo } from 'node:net'
import { createTRPCClient, httpBatchLink, httpLink } from '@trpc/client'
import { initTRPC } from '@trpc/server'
import { createHTTPServer } from '@trpc/server/adapters/standalone'
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
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest'
import { classifyApiError } from './transfer-errors'
import { type RouteCallsOf, type UploadsClient, uploadApiFromTRPC } from './upload-api-from-trpc'

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

describe('uploadApiFromTRPC timeouts', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  /**
   * A real tRPC server over HTTP whose `confirm` hangs while `hang` is set, until its request is aborted; `aborted`
   * counts the requests the server saw aborted.
   */
  async function hangingServer() {
    const state = { hang: true, aborted: 0 }
    const hangingRouter = t.router({
      uploads: t.router({
        ...uploadsRouter._def.record,
        confirm: t.procedure.input(typed<{ uploadId: string }>()).mutation(
          ({ input, signal }) =>
            new Promise<UploadRecord>((resolve) => {
              const answer = () => resolve({ id: input.uploadId } as UploadRecord)
              if (!state.hang) return answer()
              signal?.addEventListener('abort', () => {
                state.aborted++
                answer()
              })
            }),
        ),
      }),
    })
    const server = createHTTPServer({ router: hangingRouter })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    return {
      state,
      url,
      router: hangingRouter,
      close: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        }),
    }
  }

  it('fails a call the server does not answer with ApiTimeoutError, which the uploader retries', async () => {
    const server = await hangingServer()
    try {
      const client = createTRPCClient<typeof server.router>({ links: [httpBatchLink({ url: server.url })] })
      const api = uploadApiFromTRPC(client.uploads, { timeoutMs: 100 })
      const error = await api.confirm({ uploadId: 'u1' }).then(
        () => null,
        (thrown: unknown) => thrown,
      )
      expect(error).toMatchObject({
        name: 'ApiTimeoutError',
        message: 'The server did not answer within 100 ms (confirm).',
      })
      expect(classifyApiError(error)).toEqual({ action: 'retry' })
      // The same call once the server answers again: what a retry gets.
      server.state.hang = false
      await expect(api.confirm({ uploadId: 'u1' })).resolves.toEqual({ id: 'u1' })
    } finally {
      await server.close()
    }
  })

  it('aborts the request through tRPC, so the server sees it go', async () => {
    const server = await hangingServer()
    try {
      const client = createTRPCClient<typeof server.router>({ links: [httpLink({ url: server.url })] })
      const api = uploadApiFromTRPC(client.uploads, { timeoutMs: 100 })
      await expect(api.confirm({ uploadId: 'u2' })).rejects.toMatchObject({ name: 'ApiTimeoutError' })
      await vi.waitFor(() => expect(server.state.aborted).toBe(1))
    } finally {
      await server.close()
    }
  })

  /** A client whose every call answers after `answerAfterMs` (or never), counting the signals it was given. */
  function slowClient(answerAfterMs: number | null) {
    const seen: (AbortSignal | undefined)[] = []
    const answer = (opts?: { signal?: AbortSignal }) => {
      seen.push(opts?.signal)
      return new Promise<never>((resolve) => {
        if (answerAfterMs !== null) setTimeout(() => resolve({} as never), answerAfterMs)
      })
    }
    // `create`'s and `inline.set`'s inputs are where the route calls are read from: here any route, any input.
    type AnyCall = { route: string; input: unknown }
    const mutation = <TInput = unknown>() => ({
      mutate: (_input: TInput, opts?: { signal?: AbortSignal }) => answer(opts),
    })
    const query = { query: (_input?: unknown, opts?: { signal?: AbortSignal }) => answer(opts) }
    const client = {
      policies: query,
      create: mutation<AnyCall & { fileName: string; size: number; mimeType: string }>(),
      createMany: mutation(),
      resume: query,
      sign: mutation(),
      signParts: mutation(),
      confirm: mutation(),
      confirmMany: mutation(),
      cancel: mutation(),
      list: query,
      usage: query,
      download: query,
      delete: mutation(),
      inline: { set: mutation<AnyCall & { imageBase64: string }>(), remove: mutation() },
    } satisfies UploadsClient
    return { client, seen }
  }

  it('waits 30 s by default, and 2 minutes on the calls that make uploads', async () => {
    vi.useFakeTimers()
    const { client, seen } = slowClient(null)
    const api = uploadApiFromTRPC(client)
    const call = { route: 'r', input: {} }
    const calls = [
      api.policies(),
      api.create({ ...call, fileName: 'a', size: 1, mimeType: 'x' }),
      api.createMany({ ...call, files: [] }),
      api.resume({ uploadId: 'u' }),
      api.sign({ uploadId: 'u', request: {} as unknown as SignRequestInput }),
      api.signParts({ uploadId: 'u', s3UploadId: 's', partNumbers: [1] }),
      api.confirm({ uploadId: 'u' }),
      api.confirmMany({ uploads: [] }),
      api.cancel({ uploadId: 'u' }),
      api.list(call),
      api.usage(call),
      api.download({ uploadId: 'u' }),
      api.delete({ uploadId: 'u' }),
      api.setInline({ ...call, imageBase64: '' }),
      api.removeInline(call),
    ].map((promise) =>
      promise.then(
        () => 'answered',
        (error: Error) => error.name,
      ),
    )
    await vi.advanceTimersByTimeAsync(29_999)
    expect(seen.every((signal) => signal?.aborted === false)).toBe(true)
    await vi.advanceTimersByTimeAsync(1)
    // create and createMany (calls 2 and 3) still wait: sent again too soon, they would make a second upload.
    expect(seen.map((signal) => signal?.aborted)).toEqual([true, false, false, ...Array(12).fill(true)])
    await vi.advanceTimersByTimeAsync(120_000 - 30_000 - 1)
    expect(seen.filter((signal) => signal?.aborted === false)).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(await Promise.all(calls)).toEqual(Array(15).fill('ApiTimeoutError'))
    expect(seen).toHaveLength(15)
    expect(seen.every((signal) => signal?.aborted === true)).toBe(true)
  })

  it('gives a call that carries images one more second per 8 KiB of them', async () => {
    vi.useFakeTimers()
    const { client } = slowClient(null)
    const api = uploadApiFromTRPC(client, { timeoutMs: 1000 })
    const outcome = (promise: Promise<unknown>) =>
      promise.then(
        () => 'answered',
        (error: Error) => error.name,
      )
    const preview = 'A'.repeat(40 * 1024) // 5 s at 8 KiB/s
    const calls = {
      confirm: outcome(api.confirm({ uploadId: 'u', thumbnail: preview })),
      confirmMany: outcome(
        api.confirmMany({
          uploads: [
            { uploadId: 'u', thumbnail: preview },
            { uploadId: 'v' },
            { uploadId: 'w', thumbnail: preview },
          ],
        }),
      ),
      logo: outcome(api.setInline({ route: 'r', input: {}, imageBase64: preview })),
      plain: outcome(api.confirm({ uploadId: 'u' })),
    }
    const settled: Record<string, string> = {}
    for (const [name, promise] of Object.entries(calls))
      void promise.then((result) => (settled[name] = result))
    await vi.advanceTimersByTimeAsync(1000)
    expect(settled).toEqual({ plain: 'ApiTimeoutError' })
    await vi.advanceTimersByTimeAsync(5000 - 1)
    expect(Object.keys(settled)).toEqual(['plain'])
    await vi.advanceTimersByTimeAsync(1)
    expect(settled).toMatchObject({ confirm: 'ApiTimeoutError', logo: 'ApiTimeoutError' })
    expect(settled.confirmMany).toBeUndefined()
    await vi.advanceTimersByTimeAsync(5000)
    expect(settled.confirmMany).toBe('ApiTimeoutError')
  })

  it('waits forever with timeoutMs 0', async () => {
    vi.useFakeTimers()
    const { client } = slowClient(10 * 60_000)
    const answered = uploadApiFromTRPC(client, { timeoutMs: 0 }).confirm({ uploadId: 'u' })
    await vi.advanceTimersByTimeAsync(10 * 60_000)
    await expect(answered).resolves.toEqual({})
  })
})
