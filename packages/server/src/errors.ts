import { getTRPCErrorShape, type TRPCDefaultErrorShape, TRPCError, type TRPCRootConfig } from '@trpc/server'
import { isUpkitError, UpkitError, type UpkitErrorCode } from '@upkit/core'

/** The one place where a domain error becomes a transport error; the original stays as `cause`. */
export function toTRPCError(error: unknown): TRPCError {
  if (error instanceof TRPCError) return error
  if (isUpkitError(error))
    return new TRPCError({ code: error.transportCode, message: error.message, cause: error })
  return new TRPCError({
    code: 'INTERNAL_SERVER_ERROR',
    message: 'Something went wrong on our side.',
    cause: error,
  })
}

/**
 * What upkit adds to an error's `data`: `{ upkitCode }`, the domain code the browser uploader branches on
 * (restart, resume, give up). For hosts with their own formatter: `data: { ...shape.data, ...upkitErrorData(error) }`.
 */
export function upkitErrorData(error: TRPCError): { upkitCode: UpkitErrorCode | null; retryAfter?: number } {
  const cause = isUpkitError(error.cause) ? error.cause : null
  // `retryAfter` (seconds) only on RATE_LIMITED: the browser uploader waits at least that long before retrying.
  const retryAfter = cause?.retryAfterSeconds
  return { upkitCode: cause?.code ?? null, ...(retryAfter === undefined ? {} : { retryAfter }) }
}

/**
 * The largest `Retry-After` (seconds) among a response's errors, or `null`: for the HTTP header, which tRPC's
 * adapters do not set by themselves. In the host's handler:
 * `responseMeta: ({ errors }) => { const s = retryAfterOf(errors); return s === null ? {} : { headers: { 'retry-after': String(s) } } }`.
 */
export function retryAfterOf(errors: readonly TRPCError[]): number | null {
  let seconds: number | null = null
  for (const error of errors) {
    const after = isUpkitError(error.cause) ? error.cause.retryAfterSeconds : undefined
    if (after !== undefined) seconds = Math.max(seconds ?? 0, after)
  }
  return seconds
}

/**
 * A complete error formatter for hosts without one of their own: adds `data.upkitCode`, drops stack traces and
 * hides internal error messages (they stay in the server's logs through `onError`).
 */
export function upkitErrorFormatter({ shape, error }: { shape: TRPCDefaultErrorShape; error: TRPCError }) {
  const message = error.code === 'INTERNAL_SERVER_ERROR' ? 'Something went wrong on our side.' : shape.message
  const { stack: _stack, ...data } = shape.data
  return { ...shape, message, data: { ...data, ...upkitErrorData(error) } }
}

/**
 * Formats a sample upkit error with the host's own formatter and throws at start-up unless `data.upkitCode`
 * survives: without it the browser cannot tell "start this upload again" from "try again later", and nothing
 * else would reveal the mistake until uploads misbehave in production.
 */
export function assertFormatterKeepsUpkitCode(
  // biome-ignore lint/suspicious/noExplicitAny: any host's root config
  config: TRPCRootConfig<any> | undefined,
): void {
  if (!config) return
  const cause = new UpkitError('UPLOAD_EXPIRED', 'upkit start-up check')
  let shape: unknown
  try {
    shape = getTRPCErrorShape({
      config: config as never,
      error: toTRPCError(cause),
      type: 'mutation',
      path: 'upkit.startupCheck',
      input: undefined,
      ctx: undefined,
    })
  } catch {
    // A formatter that needs a real context cannot be tried here; the uploader's own checks still apply.
    return
  }
  const data = (shape as { data?: { upkitCode?: unknown } } | undefined)?.data
  if (data?.upkitCode !== 'UPLOAD_EXPIRED') {
    throw new Error(
      "upkit: your tRPC errorFormatter drops `data.upkitCode`, which upkit's browser uploader needs to tell a " +
        'retry from a restart. Use `initTRPC.create({ errorFormatter: upkitErrorFormatter })`, or add ' +
        '`...upkitErrorData(error)` to the `data` your formatter returns.',
    )
  }
}
