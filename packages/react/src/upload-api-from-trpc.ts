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

/* A tRPC client's procedures as `createTRPCClient` types them: `.query(input, opts?)` / `.mutate(input, opts?)`.
 * Written structurally, so this package needs no tRPC types: any client whose procedures fit is accepted. */
interface Query<TInput, TOutput> {
  query(input: TInput): Promise<TOutput>
}
interface Mutation<TInput, TOutput> {
  mutate(input: TInput): Promise<TOutput>
}
interface Policies {
  query(): Promise<Record<string, PublicRoutePolicy>>
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

/**
 * Adapts the tRPC client's upkit procedures to the `UploadApi` the components and hooks take:
 * `uploadApiFromTRPC(client.uploads)`. Route names and inputs are typed from the server's router, so a wrong
 * route name or input is a compile error in the app. Create it once (module level, or `useMemo` on the client):
 * components fetch `policies` once per api object.
 */
export function uploadApiFromTRPC<TClient extends UploadsClient>(
  client: TClient,
): UploadApi<RouteCallsOf<TClient>> {
  return {
    policies: () => client.policies.query(),
    create: (input) => client.create.mutate(input),
    createMany: (input) => client.createMany.mutate(input),
    resume: (input) => client.resume.query(input),
    sign: (input) => client.sign.mutate(input),
    signParts: (input) => client.signParts.mutate(input),
    confirm: (input) => client.confirm.mutate(input),
    confirmMany: (input) => client.confirmMany.mutate(input),
    cancel: (input) => client.cancel.mutate(input),
    list: (input) => client.list.query(input),
    usage: (input) => client.usage.query(input),
    download: (input) => client.download.query(input),
    delete: (input) => client.delete.mutate(input),
    setInline: (input) => client.inline.set.mutate(input),
    removeInline: (input) => client.inline.remove.mutate(input),
  }
}
