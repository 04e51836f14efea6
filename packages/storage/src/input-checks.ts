import type { ObjectMetadata } from './bucket-storage'

// Input checks shared by every BucketStorage call that signs or sends: bad input fails here with a TypeError or
// RangeError naming the field, before anything reaches the bucket.

const MAX_EXPIRES_IN_SECONDS = 7 * 24 * 60 * 60
const METADATA_NAME = /^[a-z0-9][a-z0-9-]*$/
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/
/**
 * AWS refuses more user metadata than this (names without `x-amz-meta-` plus values, in bytes) with
 * MetadataTooLarge. upkit keeps to AWS's limit so an app behaves the same on every provider, and checks it before
 * signing: a browser would only learn it from a failed PUT.
 */
const MAX_METADATA_BYTES = 2048

export function metadataInput(metadata: ObjectMetadata | undefined): { Metadata?: Record<string, string> } {
  if (metadata === undefined) return {}
  let size = 0
  for (const [name, value] of Object.entries(metadata)) {
    if (!METADATA_NAME.test(name)) {
      throw new TypeError(`Metadata name '${name}' must be lowercase letters, digits and dashes`)
    }
    if (!PRINTABLE_ASCII.test(value)) throw new TypeError(`Metadata '${name}' must be printable ASCII`)
    size += name.length + value.length
  }
  if (size > MAX_METADATA_BYTES) {
    throw new RangeError(
      `Metadata is ${size} bytes (names + values); S3 allows at most ${MAX_METADATA_BYTES}`,
    )
  }
  return { Metadata: metadata }
}

export function metadataHeaders(metadata: ObjectMetadata | undefined): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(metadata ?? {})) headers[`x-amz-meta-${name}`] = value
  return headers
}

export function assertExpiry(seconds: number): void {
  // The SDK rejects longer expiries with a bare string, not an Error; SigV4 caps them at 7 days.
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_EXPIRES_IN_SECONDS) {
    throw new RangeError(`expiresInSeconds must be an integer from 1 to ${MAX_EXPIRES_IN_SECONDS}`)
  }
}

export function assertLength(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`${name} must be a non-negative integer`)
}

export function assertPartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) {
    throw new RangeError('partNumber must be an integer from 1 to 10000')
  }
}
