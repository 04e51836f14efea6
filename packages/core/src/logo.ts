import { UpkitError } from './errors'
import { type ImageInfo, readImageInfo } from './image-info'
import { IMAGE_TYPES } from './policies'
import { formatBytes, MiB, parseSize, type SizeInput } from './sizes'

/**
 * What an app writes for an inline image route (a logo, an avatar): bytes that go through a base64 mutation into
 * the app's own table instead of the bucket, so they are capped hard.
 */
export interface InlineImagePolicy {
  /** Largest decoded image. Default `'1MB'`: inline bytes travel as base64 in a request and sit in a table row. */
  readonly maxSize?: SizeInput
  /** Accepted types, from PNG, JPEG, WebP and GIF. Default all four. SVG never: it can carry script. */
  readonly types?: readonly (typeof IMAGE_TYPES)[number][]
  /**
   * Largest width and height in pixels. Default 4096: refuses pixel bombs (a few KiB of PNG can decode to
   * 20000x20000 pixels, 1.6 GB of RGBA).
   */
  readonly maxDimension?: number
  /** The square the browser fits the image into before sending. Default 512: sharp on a 2x screen at 256 px. */
  readonly targetSize?: number
  /** Singular noun used in messages ("the logo is 2 MiB"). Default `'image'`. */
  readonly label?: string
}

export interface ResolvedInlineImagePolicy {
  readonly maxBytes: number
  readonly types: readonly string[]
  readonly maxDimension: number
  readonly targetSize: number
  readonly label: string
}

export function resolveInlineImagePolicy(policy: InlineImagePolicy = {}): ResolvedInlineImagePolicy {
  const types = policy.types ?? IMAGE_TYPES
  for (const type of types) {
    if (!(IMAGE_TYPES as readonly string[]).includes(type))
      throw new TypeError(`Inline images can be ${IMAGE_TYPES.join(', ')}; got ${JSON.stringify(type)}.`)
  }
  return {
    maxBytes: policy.maxSize === undefined ? 1 * MiB : parseSize(policy.maxSize),
    types,
    maxDimension: policy.maxDimension ?? 4096,
    targetSize: policy.targetSize ?? 512,
    label: policy.label ?? 'image',
  }
}

const IMAGE_TYPE_NAMES: Record<string, string> = {
  'image/png': 'PNG',
  'image/jpeg': 'JPEG',
  'image/webp': 'WebP',
  'image/gif': 'GIF',
}

/** "PNG, JPEG, WebP or GIF": how people name the types of a policy. */
export function imageTypeNames(types: readonly string[]): string {
  const names = types.map((type) => IMAGE_TYPE_NAMES[type] ?? type)
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : (names[0] ?? '')
}

/** Base64 length of `maxBytes` (4 characters per 3 bytes), the cap on the encoded input. */
export function base64LengthOf(maxBytes: number): number {
  return Math.ceil(maxBytes / 3) * 4
}

/** Checks decoded image bytes: size, magic bytes (the policy's types only) and header dimensions. */
export function assertInlineImageAllowed(policy: ResolvedInlineImagePolicy, bytes: Uint8Array): ImageInfo {
  const label = policy.label
  if (bytes.length === 0) throw new UpkitError('FILE_EMPTY', `The ${label} is empty.`)
  if (bytes.length > policy.maxBytes) {
    throw new UpkitError(
      'FILE_TOO_LARGE',
      `The ${label} is ${formatBytes(bytes.length)}; it can be at most ${formatBytes(policy.maxBytes)}.`,
    )
  }
  const info = readImageInfo(bytes)
  if (!info || !policy.types.includes(info.type)) {
    throw new UpkitError(
      'FILE_TYPE_NOT_ALLOWED',
      `The ${label} must be a ${imageTypeNames(policy.types)} image (SVG is not accepted).`,
    )
  }
  if (info.width > policy.maxDimension || info.height > policy.maxDimension) {
    throw new UpkitError(
      'IMAGE_TOO_LARGE',
      `The ${label} is ${info.width}×${info.height} pixels; it can be at most ${policy.maxDimension}×${policy.maxDimension}.`,
    )
  }
  return info
}
