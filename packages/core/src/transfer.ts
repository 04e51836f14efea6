import { MiB } from './sizes'

/** S3's limits for multipart uploads. */
export const S3_MIN_PART_SIZE = 5 * MiB
export const S3_MAX_PARTS = 10_000

/**
 * Files up to this size go in one presigned PUT: one request, one signature, no Complete call. Above it a
 * multipart upload wins because parts travel in parallel and a failure retries one part, not the whole file.
 */
export const MULTIPART_THRESHOLD = 32 * MiB

/** Smallest part the server chooses: large enough that per-part signing and request overhead stay negligible. */
export const MIN_PART_SIZE = 8 * MiB
/** Largest part the server chooses while it can: a retry after an outage re-sends at most this much. */
export const MAX_PREFERRED_PART_SIZE = 64 * MiB

/**
 * Part URLs `uploads.create` signs with its answer: 16 is how many parts `planTransfer` chooses for files up to
 * 1 GiB, so those need no `signParts` call. Signing is local HMAC work, but each URL adds about 1 KiB to the
 * answer, and parts further along may not be sent before their URLs expire.
 */
export const CREATE_SIGNED_PARTS = 16

export type TransferPlan =
  | { readonly type: 'single'; readonly size: number }
  | {
      readonly type: 'multipart'
      readonly size: number
      readonly partSize: number
      readonly partCount: number
    }

/**
 * Chooses how a file of `size` bytes travels. Multipart parts aim at about 16 per file (enough to keep several
 * connections busy) within [8 MiB, 64 MiB], in whole MiB, and never more than S3's 10,000 parts.
 */
export function planTransfer(size: number): TransferPlan {
  if (size <= MULTIPART_THRESHOLD) return { type: 'single', size }
  const preferred = Math.min(
    MAX_PREFERRED_PART_SIZE,
    Math.max(MIN_PART_SIZE, Math.ceil(size / 16 / MiB) * MiB),
  )
  const partSize = Math.max(preferred, Math.ceil(size / S3_MAX_PARTS / MiB) * MiB)
  return { type: 'multipart', size, partSize, partCount: Math.ceil(size / partSize) }
}

type MultipartShape = { readonly size: number; readonly partSize: number; readonly partCount: number }

/**
 * Bytes `[start, end)` of part `partNumber` (1-based) of a multipart plan, or `null` when out of range. The one
 * place part boundaries are computed: the server signs each part's Content-Length from it, the browser and the
 * migrator slice files with it, so the three can never disagree.
 */
export function partRange(plan: MultipartShape, partNumber: number): { start: number; end: number } | null {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > plan.partCount) return null
  const start = (partNumber - 1) * plan.partSize
  return { start, end: Math.min(plan.size, start + plan.partSize) }
}

/** Byte length of part `partNumber` (1-based) of a multipart plan, or `null` when out of range. */
export function partContentLength(plan: MultipartShape, partNumber: number): number | null {
  const range = partRange(plan, partNumber)
  return range === null ? null : range.end - range.start
}
