import { TRPCError } from '@trpc/server'
import type { DefaultErrorShape } from '@trpc/server/unstable-core-do-not-import'
import { isUpkitError, type UpkitErrorCode } from '@upkit/core'

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
 * Adds `upkitCode` to every error's `data`, so clients can branch on the domain code (`FILE_TOO_LARGE`) rather
 * than on messages. Host apps that nest the upkit router pass this to their own `initTRPC.create()`.
 */
export function upkitErrorFormatter({ shape, error }: { shape: DefaultErrorShape; error: TRPCError }) {
  const upkitCode: UpkitErrorCode | null = isUpkitError(error.cause) ? error.cause.code : null
  // Internal failures keep their details in server logs (onError), not in responses.
  const message = error.code === 'INTERNAL_SERVER_ERROR' ? 'Something went wrong on our side.' : shape.message
  const { stack: _stack, ...data } = shape.data
  return { ...shape, message, data: { ...data, upkitCode } }
}
