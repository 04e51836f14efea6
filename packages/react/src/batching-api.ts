import {
  type CreatedUpload,
  MAX_BATCH_FILES,
  type RouteCall,
  UpkitError,
  type UploadApi,
  type UploadFailure,
  type UploadRecord,
} from '@upkit/core'
import { callKey } from './upload-journal'

/** Most files per `createMany` / `confirmMany` call: the server's limit. */
const MAX_BATCH = MAX_BATCH_FILES
/**
 * Confirm calls in flight at once. The first file to finish is confirmed at once (no window to wait out); files
 * finishing while confirms are in flight wait for one to return and then go together, so a drop of 200 small
 * files makes a handful of confirm calls, not 200, and a single file waits for nothing.
 */
const CONFIRMS_IN_FLIGHT = 2

type CreateInput = Parameters<UploadApi<RouteCall>['create']>[0]
type ConfirmInput = Parameters<UploadApi<RouteCall>['confirm']>[0]

interface Waiting<TInput, TResult> {
  readonly input: TInput
  resolve(result: TResult): void
  reject(error: unknown): void
}

/** A per-file refusal from a batch call, as the error a single call would have thrown. */
function refusal(error: UploadFailure): Error {
  const thrown = new UpkitError(error.code, error.message)
  // `data.upkitCode` (and `retryAfter`), as tRPC errors carry them: the uploader classifies both the same way.
  return Object.assign(thrown, {
    data: {
      upkitCode: error.code,
      ...(error.retryAfterSeconds ? { retryAfter: error.retryAfterSeconds } : {}),
    },
  })
}

/**
 * The uploads API with `create` and `confirm` coalesced into the server's batch calls: files added together are
 * created in one `createMany` per route and input (one round trip and one transaction instead of one each), and
 * files finishing while a confirm is in flight are confirmed together by `confirmMany`. Each caller still gets its
 * own result or its own error, so one refused file fails alone. Falls back to the single calls when the server's
 * api has no batch calls.
 */
export function batchingApi(current: () => UploadApi<RouteCall>): UploadApi<RouteCall> {
  const creates = new Map<string, Waiting<CreateInput, CreatedUpload>[]>()
  let createFlushQueued = false
  const confirms: Waiting<ConfirmInput, UploadRecord>[] = []
  let confirmsInFlight = 0

  const flushCreates = () => {
    createFlushQueued = false
    const groups = [...creates.values()]
    creates.clear()
    for (const group of groups) {
      for (let start = 0; start < group.length; start += MAX_BATCH) {
        void createBatch(group.slice(start, start + MAX_BATCH))
      }
    }
  }

  const createBatch = async (batch: Waiting<CreateInput, CreatedUpload>[]) => {
    const api = current()
    const first = batch[0]
    if (!first) return
    if (batch.length === 1 || !api.createMany) {
      for (const waiting of batch) api.create(waiting.input).then(waiting.resolve, waiting.reject)
      return
    }
    try {
      const { route, input } = first.input
      const results = await api.createMany({
        route,
        input,
        files: batch.map(({ input: file }) => ({
          fileName: file.fileName,
          size: file.size,
          mimeType: file.mimeType,
        })),
      })
      batch.forEach((waiting, index) => {
        const result = results[index]
        if (!result) waiting.reject(new Error('The server answered fewer files than it was sent.'))
        else if (result.ok) waiting.resolve(result.created)
        else waiting.reject(refusal(result.error))
      })
    } catch (error) {
      // The call itself failed (network, server down): every file retries on its own schedule, batched again.
      for (const waiting of batch) waiting.reject(error)
    }
  }

  const flushConfirms = () => {
    while (confirmsInFlight < CONFIRMS_IN_FLIGHT && confirms.length > 0) {
      const batch = confirms.splice(0, MAX_BATCH)
      confirmsInFlight++
      void confirmBatch(batch).finally(() => {
        confirmsInFlight--
        flushConfirms()
      })
    }
  }

  const confirmBatch = async (batch: Waiting<ConfirmInput, UploadRecord>[]) => {
    const api = current()
    if (batch.length === 1 || !api.confirmMany) {
      await Promise.all(
        batch.map((waiting) => api.confirm(waiting.input).then(waiting.resolve, waiting.reject)),
      )
      return
    }
    try {
      const results = await api.confirmMany({ uploads: batch.map((waiting) => waiting.input) })
      batch.forEach((waiting, index) => {
        const result = results[index]
        if (!result) waiting.reject(new Error('The server answered fewer files than it was sent.'))
        else if (result.ok) waiting.resolve(result.upload)
        else waiting.reject(refusal(result.error))
      })
    } catch (error) {
      for (const waiting of batch) waiting.reject(error)
    }
  }

  const batched: Partial<UploadApi<RouteCall>> = {
    create: (input) =>
      new Promise((resolve, reject) => {
        const key = callKey(input)
        const group = creates.get(key) ?? []
        group.push({ input, resolve, reject })
        creates.set(key, group)
        // Files added together call `create` in the same task: a microtask later they are all here.
        if (!createFlushQueued) {
          createFlushQueued = true
          queueMicrotask(flushCreates)
        }
      }),
    confirm: (input) =>
      new Promise((resolve, reject) => {
        confirms.push({ input, resolve, reject })
        flushConfirms()
      }),
  }
  return new Proxy({} as UploadApi<RouteCall>, {
    get: (_, name) =>
      name === 'create' || name === 'confirm' ? batched[name] : Reflect.get(current(), name),
  })
}
