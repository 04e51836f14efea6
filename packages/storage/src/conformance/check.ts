import type { BucketStorage, PresignedRequest } from '../bucket-storage'

/** What one check may use. Every key it writes starts with `prefix` (random per run), so cleanup is one listing. */
export interface CheckContext {
  storage: BucketStorage
  /** Ends with `/`; unique to this check within the run. */
  prefix: string
  /** A browser origin the bucket's CORS allows; the CORS checks are skipped without one. */
  corsOrigin: string | undefined
  /** Whether the run may replace the bucket's CORS rules (a throwaway bucket), so the CORS API is tried. */
  manageCors: boolean
}

/** `warn`: the provider lacks something, and upkit works around it (the note says how). */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip'

export interface Check {
  id: string
  title: string
  /** What a failure means for an app using upkit. */
  meaning: string
  /** What to do about a failure (a setting, a provider feature, or what upkit does). */
  fix: string
  /** Resolves with nothing (pass) or a warn/skip note; throws `CheckFailure` (or anything) on failure. */
  run(ctx: CheckContext): Promise<{ status: 'warn' | 'skip'; note: string } | undefined>
}

export class CheckFailure extends Error {
  override readonly name = 'CheckFailure'
}

export function expectThat(condition: boolean, message: string): asserts condition {
  if (!condition) throw new CheckFailure(message)
}

/** Sends a presigned request as a browser would (no credentials, exactly the signed headers). */
export function send(
  request: PresignedRequest,
  body?: Uint8Array | string,
  extraHeaders: Record<string, string> = {},
): Promise<Response> {
  return fetch(request.url, {
    method: request.method,
    headers: { ...request.headers, ...extraHeaders },
    ...(body === undefined ? {} : { body }),
  })
}

/** The S3 error code of a failed answer (`<Code>` of its XML body), or its status when the body has none. */
export async function failureOf(response: Response): Promise<string> {
  const text = await response.text()
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1]
  return code === undefined ? `HTTP ${response.status}` : `HTTP ${response.status} ${code}`
}

/** Fails with the answer's S3 error code unless it is a 2xx; reads the body either way (frees the connection). */
export async function expectOk(response: Response, what: string): Promise<void> {
  if (!response.ok) throw new CheckFailure(`${what}: ${await failureOf(response)}`)
  await response.arrayBuffer()
}

/** The name of the S3 error a call rejected with; throws if it resolved. */
export async function rejectionOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    return error instanceof Error ? error.name : String(error)
  }
  throw new CheckFailure('expected the call to be refused, it succeeded')
}

/** Deterministic bytes (no crypto randomness needed: contents only have to differ between parts). */
export function bytesOf(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length)
  let x = seed
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff
    out[i] = x >>> 16
  }
  return out
}

export const sameBytes = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && a.every((value, i) => value === b[i])
