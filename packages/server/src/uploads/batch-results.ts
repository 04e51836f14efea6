import { TRPCError } from '@trpc/server'
import { isUpkitError, type UpkitErrorCode, type UploadFailure } from '@upkit/core'

/** The upkit code closest to a `TRPCError` an app's hook threw; what has none is the hook failing. */
const CODE_OF_TRPC: Partial<Record<TRPCError['code'], UpkitErrorCode>> = {
  UNAUTHORIZED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  BAD_REQUEST: 'INVALID_INPUT',
}

/**
 * One file's refusal as a batch answers it: an `UpkitError` keeps its code and message (and `retryAfterSeconds`);
 * a `TRPCError` (an app's hook may throw one) keeps its message under the closest code (`HOOK_FAILED` when none
 * is close). Anything else is not a refusal of that file but a failure of the server (database, storage): `null`,
 * and the caller rethrows.
 */
export function uploadFailureOf(error: unknown): UploadFailure | null {
  if (isUpkitError(error)) {
    const after = error.retryAfterSeconds
    return {
      code: error.code,
      message: error.message,
      ...(after === undefined ? {} : { retryAfterSeconds: after }),
    }
  }
  if (error instanceof TRPCError)
    return { code: CODE_OF_TRPC[error.code] ?? 'HOOK_FAILED', message: error.message }
  return null
}

/** `uploadFailureOf`, rethrowing what is not a refusal of one file. */
export function refusalOf(error: unknown): { ok: false; error: UploadFailure } {
  const failure = uploadFailureOf(error)
  if (!failure) throw error
  return { ok: false, error: failure }
}

/** Runs `task` over `items` with at most `limit` at once; results in the order of `items`. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      try {
        results[i] = { status: 'fulfilled', value: await task(items[i] as T, i) }
      } catch (reason) {
        results[i] = { status: 'rejected', reason }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}
