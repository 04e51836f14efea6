import type {
  ConfirmManyResult,
  CreatedUpload,
  CreateManyResult,
  PublicRoutePolicy,
  RouteCall,
  SignedPart,
  SignedRequest,
  SignRequestInput,
  StoredInlineImage,
  UploadApi,
  UploadRecord,
  UploadUsage,
} from '@upkit/core'
import { ApiTimeoutError } from './transfer-errors'

/* A tRPC client's procedures as `createTRPCClient` types them: `.query(input, opts?)` / `.mutate(input, opts?)`.
 * Written structurally, so this package needs no tRPC types: any client whose procedures fit is accepted. */
interface RequestOptions {
  readonly signal?: AbortSignal
}
interface Query<TInput, TOutput> {
  query(input: TInput, opts?: RequestOptions): Promise<TOutput>
}
interface Mutation<TInput, TOutput> {
  mutate(input: TInput, opts?: RequestOptions): Promise<TOutput>
}
interface Policies {
  query(input?: undefined, opts?: RequestOptions): Promise<Record<string, PublicRoutePolicy>>
}

/**
 * What `uploadApiFromTRPC` takes: the part of a vanilla tRPC client (`createTRPCClient<AppRouter>`) under which
 * the host mounted upkit's procedures, e.g. `client.uploads`. Inputs are loose here on purpose: the route calls
 * are read from `create`'s input type, and every other procedure takes what upkit's server defines.
 */
export interface UploadsClient {
  readonly policies: Policies
  // biome-ignore lint/suspicious/noExplicitAny: the app's route calls, inferred from this parameter
  readonly create: Mutation<any, CreatedUpload>
  // biome-ignore lint/suspicious/noExplicitAny: same route calls as `create`, with `files` instead of one file
  readonly createMany: Mutation<any, CreateManyResult[]>
  readonly resume: Query<{ uploadId: string }, CreatedUpload>
  readonly sign: Mutation<{ uploadId: string; request: SignRequestInput }, SignedRequest>
  readonly signParts: Mutation<{ uploadId: string; s3UploadId: string; partNumbers: number[] }, SignedPart[]>
  readonly confirm: Mutation<{ uploadId: string; thumbnail?: string }, UploadRecord>
  readonly confirmMany: Mutation<{ uploads: { uploadId: string; thumbnail?: string }[] }, ConfirmManyResult[]>
  readonly cancel: Mutation<{ uploadId: string }, unknown>
  // biome-ignore lint/suspicious/noExplicitAny: same route calls as `create`
  readonly list: Query<any, UploadRecord[]>
  // biome-ignore lint/suspicious/noExplicitAny: same route calls as `create`
  readonly usage: Query<any, UploadUsage>
  readonly download: Query<{ uploadId: string }, { url: string }>
  readonly delete: Mutation<{ uploadId: string }, unknown>
  readonly inline: {
    // biome-ignore lint/suspicious/noExplicitAny: same route calls as `create`
    readonly set: Mutation<any, StoredInlineImage>
    // biome-ignore lint/suspicious/noExplicitAny: same route calls as `create`
    readonly remove: Mutation<any, unknown>
  }
}

type FileFields = 'fileName' | 'size' | 'mimeType'
/** `Omit` applied to each member of a union, so each route keeps its own input. */
type OmitEach<T, K extends PropertyKey> = T extends unknown
  ? { [P in keyof T as Exclude<P, K>]: T[P] }
  : never
type InputOf<TProcedure> = TProcedure extends { mutate(input: infer I): unknown } ? I : never

/**
 * The route calls (`{ route, input }` per route) of a client: the bucket routes from `create`'s input (without
 * the file's fields) and the inline routes from `inline.set`'s (without the image). A server with routes
 * `taskAttachment` (input `{ taskId }`) and `companyLogo` (input `{}`) gives
 * `{ route: 'taskAttachment'; input: { taskId: string } } | { route: 'companyLogo'; input: {} }`.
 */
export type RouteCallsOf<TClient extends UploadsClient> = Extract<
  | OmitEach<InputOf<TClient['create']>, FileFields>
  | OmitEach<InputOf<TClient['inline']['set']>, 'imageBase64'>,
  RouteCall
>

/** What `uploadApiFromTRPC` can be told besides the client. */
export interface UploadApiOptions {
  /**
   * How long a call may go unanswered before it fails with an `ApiTimeoutError`, which the uploader retries like a
   * lost connection (and TanStack Query like any failed query). Default 30,000 ms: without it, a server that took
   * the request and then hung (a stuck database connection, a proxy that lost the answer) would leave a file
   * "uploading" for good. 30 s is far above the slowest call upkit makes (a `createMany` or `confirmMany` of 100
   * files: a few seconds against a remote bucket). A call that carries images (previews on `confirm` and
   * `confirmMany`, a logo on `inline.set`) gets one more second per 8 KiB of them, the time they take on a 64 kbit/s
   * link that the bucket uploads share, so a slow link is not mistaken for a dead server. `create` and
   * `createMany` wait four times as long (2 minutes): they are the calls that are not idempotent, as one sent again
   * while the first still runs makes a second upload, and the server's own bucket requests may take 3 tries of
   * 30 s against a bucket that drops them. The call is also aborted through tRPC's `signal`, so links that can cancel
   * a request do. `0` waits forever.
   */
  readonly timeoutMs?: number
}

/** See `UploadApiOptions.timeoutMs`. */
const DEFAULT_TIMEOUT_MS = 30_000
/** How many times `timeoutMs` the calls that make uploads wait (see there). */
const CREATE_TIMEOUT_FACTOR = 4
/** Bytes per second a call's images are given on top of `timeoutMs` (see there): 64 kbit/s. */
const SLOW_LINK_BYTES_PER_SECOND = 8 * 1024

/**
 * Adapts the tRPC client's upkit procedures to the `UploadApi` the components and hooks take:
 * `uploadApiFromTRPC(client.uploads)`. Route names and inputs are typed from the server's router, so a wrong
 * route name or input is a compile error in the app. Create it once (module level, or `useMemo` on the client):
 * components fetch `policies` once per api object.
 */
export function uploadApiFromTRPC<TClient extends UploadsClient>(
  client: TClient,
  options: UploadApiOptions = {},
): UploadApi<RouteCallsOf<TClient>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  /**
   * The call, failed with ApiTimeoutError once `timeoutMs` passes (plus the time `bodyBytes` of images take on a
   * slow link). Raced rather than left to the abort: tRPC's batch link cancels a request only when every call in it
   * is aborted, so an aborted call may not settle.
   */
  const timed = <T>(
    name: string,
    call: (opts: RequestOptions) => Promise<T>,
    { bodyBytes = 0, factor = 1 }: { bodyBytes?: number | undefined; factor?: number } = {},
  ): Promise<T> => {
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) return call({})
    const waitMs = timeoutMs * factor + Math.ceil((bodyBytes / SLOW_LINK_BYTES_PER_SECOND) * 1000)
    const controller = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const waited = waitMs < 1000 ? `${waitMs} ms` : `${Math.round(waitMs / 1000)} s`
        const error = new ApiTimeoutError(`The server did not answer within ${waited} (${name}).`)
        // Rejected first, so the race ends with this error and not with the abort it causes.
        reject(error)
        controller.abort(error)
      }, waitMs)
    })
    return Promise.race([call({ signal: controller.signal }), timeout]).finally(() => clearTimeout(timer))
  }
  return {
    policies: () => timed('policies', (opts) => client.policies.query(undefined, opts)),
    create: (input) =>
      timed('create', (opts) => client.create.mutate(input, opts), { factor: CREATE_TIMEOUT_FACTOR }),
    createMany: (input) =>
      timed('createMany', (opts) => client.createMany.mutate(input, opts), {
        factor: CREATE_TIMEOUT_FACTOR,
      }),
    resume: (input) => timed('resume', (opts) => client.resume.query(input, opts)),
    sign: (input) => timed('sign', (opts) => client.sign.mutate(input, opts)),
    signParts: (input) => timed('signParts', (opts) => client.signParts.mutate(input, opts)),
    confirm: (input) =>
      timed('confirm', (opts) => client.confirm.mutate(input, opts), {
        bodyBytes: input.thumbnail?.length,
      }),
    confirmMany: (input) =>
      timed('confirmMany', (opts) => client.confirmMany.mutate(input, opts), {
        bodyBytes: input.uploads.reduce((bytes, upload) => bytes + (upload.thumbnail?.length ?? 0), 0),
      }),
    cancel: (input) => timed('cancel', (opts) => client.cancel.mutate(input, opts)),
    list: (input) => timed('list', (opts) => client.list.query(input, opts)),
    usage: (input) => timed('usage', (opts) => client.usage.query(input, opts)),
    download: (input) => timed('download', (opts) => client.download.query(input, opts)),
    delete: (input) => timed('delete', (opts) => client.delete.mutate(input, opts)),
    setInline: (input) =>
      timed('inline.set', (opts) => client.inline.set.mutate(input, opts), {
        bodyBytes: input.imageBase64.length,
      }),
    removeInline: (input) => timed('inline.remove', (opts) => client.inline.remove.mutate(input, opts)),
  }
}
