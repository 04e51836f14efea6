// The small-files bench's batched client: the same files through `uploads.createMany` / `uploads.confirmMany` as
// @upkit/react's uploader sends them (packages/react/src/batching-api.ts), written out for a Node client.
import type { PresignedRequest } from '@upkit/storage'

/** Most files per `createMany` / `confirmMany`: the server's MAX_BATCH_FILES, as the uploader uses it. */
const MAX_BATCH = 100
/** As batching-api.ts: the first finished file is confirmed at once, later ones wait for one of 2 calls in flight. */
const CONFIRMS_IN_FLIGHT = 2
/**
 * Files created but not yet confirmed, at most: the demo's taskAttachment route allows 200 pending per person
 * (maxFiles), so a drop of more than 200 is created 100 at a time as earlier files get confirmed; a browser drop of
 * 300 would meet the same cap.
 */
const PENDING_CAP = 200

type Call = <T>(path: string, input: unknown) => Promise<T>

interface Created {
  readonly upload: { readonly id: string }
  readonly signedPut: PresignedRequest | null
}
type CreateResult = { ok: true; created: Created } | { ok: false; error: { code: string; message: string } }
type ConfirmResult = { ok: true } | { ok: false; error: { code: string; message: string } }

export interface BatchedTimings {
  /** Per createMany call. */
  readonly create: number[]
  readonly put: number[]
  /** Per confirm / confirmMany call. */
  readonly confirm: number[]
  /** Files per confirm call, to show how the windows formed. */
  readonly confirmSizes: number[]
}

/**
 * Uploads `payloads` as one drop: creates in calls of up to 100 (the next once the pending cap allows it), PUTs
 * `concurrency` at a time as files are created, and confirms files as their PUT finishes (first at once, then
 * windows while 2 confirm calls are in flight). Rejects on the first refused file: the bench expects none.
 */
export async function uploadBatched(options: {
  call: Call
  put: (signed: PresignedRequest, body: Uint8Array) => Promise<void>
  routeCall: { route: string; input: unknown }
  payloads: readonly Uint8Array[]
  names: (i: number) => string
  contentType: string
  concurrency: number
  t: BatchedTimings
}): Promise<void> {
  const { call, payloads, t } = options
  const ready: { index: number; created: Created }[] = []
  let nextToCreate = 0
  let pending = 0
  let confirmed = 0
  let creating = false
  let failure: unknown = null
  let wake: (() => void) | null = null
  const notify = () => {
    const w = wake
    wake = null
    w?.()
  }
  const fail = (error: unknown) => {
    failure ??= error
    notify()
  }

  const createNext = () => {
    if (creating || nextToCreate >= payloads.length || pending + MAX_BATCH > PENDING_CAP) return
    const from = nextToCreate
    const to = Math.min(payloads.length, from + MAX_BATCH)
    nextToCreate = to
    pending += to - from
    creating = true
    const started = performance.now()
    call<CreateResult[]>('uploads.createMany', {
      ...options.routeCall,
      files: payloads.slice(from, to).map((payload, j) => ({
        fileName: options.names(from + j),
        size: payload.length,
        mimeType: options.contentType,
      })),
    })
      .then((results) => {
        t.create.push(performance.now() - started)
        creating = false
        results.forEach((result, j) => {
          if (!result.ok) throw new Error(`file ${from + j}: ${result.error.code} ${result.error.message}`)
          ready.push({ index: from + j, created: result.created })
        })
        notify()
        createNext()
      })
      .catch(fail)
  }

  const toConfirm: string[] = []
  let confirmsInFlight = 0
  let allConfirmed: () => void = () => {}
  const done = new Promise<void>((resolve) => {
    allConfirmed = resolve
  })
  const flushConfirms = () => {
    while (confirmsInFlight < CONFIRMS_IN_FLIGHT && toConfirm.length > 0) {
      const batch = toConfirm.splice(0, MAX_BATCH)
      confirmsInFlight++
      const started = performance.now()
      const sent =
        batch.length === 1
          ? call('uploads.confirm', { uploadId: batch[0] }).then(() => [{ ok: true } as ConfirmResult])
          : call<ConfirmResult[]>('uploads.confirmMany', { uploads: batch.map((uploadId) => ({ uploadId })) })
      sent
        .then((results) => {
          t.confirm.push(performance.now() - started)
          t.confirmSizes.push(batch.length)
          for (const result of results) if (!result.ok) throw new Error(`confirm: ${result.error.message}`)
          confirmsInFlight--
          confirmed += batch.length
          pending -= batch.length
          createNext()
          if (confirmed === payloads.length) allConfirmed()
          flushConfirms()
        })
        .catch(fail)
    }
  }

  const worker = async () => {
    for (;;) {
      if (failure) return
      const next = ready.shift()
      if (!next) {
        if (nextToCreate >= payloads.length && !creating) return
        await new Promise<void>((resolve) => {
          const previous = wake
          wake = () => {
            previous?.()
            resolve()
          }
        })
        continue
      }
      if (!next.created.signedPut) throw new Error('expected a single-PUT plan for a small file')
      const started = performance.now()
      await options.put(next.created.signedPut, payloads[next.index] as Uint8Array)
      t.put.push(performance.now() - started)
      toConfirm.push(next.created.upload.id)
      flushConfirms()
    }
  }

  createNext()
  await Promise.all(Array.from({ length: options.concurrency }, worker))
  if (failure) throw failure
  await Promise.race([
    done,
    new Promise<void>((_, reject) => {
      const check = setInterval(() => {
        if (failure) {
          clearInterval(check)
          reject(failure)
        }
      }, 50)
      void done.then(() => clearInterval(check))
    }),
  ])
}
