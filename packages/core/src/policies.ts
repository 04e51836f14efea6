import { UpkitError } from './errors'
import { formatBytes, parseSize, type SizeInput } from './sizes'

export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'] as const

/** What an app writes for a route: `{ maxSize: '5GB', types: ['application/pdf', 'image/*'], maxFiles: 20 }`. */
export interface UploadPolicy {
  /** Largest accepted file: `'10MB'`, `'5GB'` (binary units) or bytes. Required: every route states its limit. */
  readonly maxSize: SizeInput
  /**
   * Accepted MIME types: exact (`'application/pdf'`), a family (`'image/*'`) or anything (`'*\/*'`). Required, no
   * default: an app that accepts every type should say so. Files a browser reports without a type count as
   * `application/octet-stream`. Wildcards never match `image/svg+xml` (it can carry script): list it exactly.
   */
  readonly types: readonly string[]
  /**
   * Most files one person may have uploading to one route and owner at once. Default 20: enough for a folder
   * dropped on a dropzone, and a cap on how many pending uploads one client can open. The browser refuses more
   * when files are added; the server counts pending uploads.
   */
  readonly maxFiles?: number
  /**
   * Check the first bytes of each file against its declared type before confirming (PNG, JPEG, WebP, GIF, PDF,
   * ZIP and Office files, MP4; other types are opaque). Default `true`: a file that claims to be an image but is
   * HTML is the classic stored-XSS upload.
   */
  readonly contentCheck?: boolean
  /** Plural noun used in messages ("attachments can be at most 5 GiB"). Default `'files'`. */
  readonly label?: string
  /**
   * Resize and re-encode images in the browser before they upload (pasted screenshots, phone photos): `{ maxEdge:
   * 2560, type: 'image/webp', quality: 0.85 }`. Default off: an attachment is kept byte for byte unless the app
   * decides its route is for pictures people look at, not originals they archive. The browser keeps the original
   * when the result is not smaller, and never touches SVG, GIF (animation) or non-images; the original type stays
   * allowed. `type` must be one the route accepts.
   */
  readonly compress?: ImageCompression
}

/** Output types the browser's canvas can encode (`HTMLCanvasElement.toBlob`). */
export const COMPRESSION_TYPES = ['image/webp', 'image/jpeg'] as const

/** How a route's images are compressed in the browser before upload. */
export interface ImageCompression {
  /**
   * Longest edge in pixels after resizing; smaller images keep their size. Default 2560: sharp on a 1440p screen
   * and a quarter of the pixels of a 12 MP phone photo.
   */
  readonly maxEdge?: number
  /**
   * Output type. Default `'image/webp'`: about a third smaller than JPEG at the same quality, and it keeps
   * transparency. A browser that cannot encode WebP (Safari) re-encodes JPEG photos as JPEG when the route
   * accepts JPEG and uploads other images unchanged.
   */
  readonly type?: (typeof COMPRESSION_TYPES)[number]
  /** Encoder quality from 0 to 1. Default 0.85: no visible loss on screenshots and photos at a fraction of the size. */
  readonly quality?: number
}

/** `ImageCompression` with its defaults applied, as the browser gets it in `uploads.policies`. */
export interface ResolvedImageCompression {
  readonly maxEdge: number
  readonly type: (typeof COMPRESSION_TYPES)[number]
  readonly quality: number
}

/** Defaults of `ImageCompression`. */
export const DEFAULT_IMAGE_COMPRESSION: ResolvedImageCompression = {
  maxEdge: 2560,
  type: 'image/webp',
  quality: 0.85,
}

/** A policy with every default applied; what travels to the browser (`uploads.policies`) and what checks run on. */
export interface ResolvedPolicy {
  readonly maxBytes: number
  readonly types: readonly string[]
  readonly maxFiles: number
  readonly contentCheck: boolean
  readonly label: string
  /** Present only when the route compresses images (off by default). */
  readonly compress?: ResolvedImageCompression
}

/** Type lists longer than this are left out of refusal messages. */
const MAX_LISTED_TYPES = 5

/** Default of `UploadPolicy.maxFiles`. */
export const DEFAULT_MAX_FILES = 20

const MIME_PATTERN = /^(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)$/

/** Applies defaults and validates a route policy; throws a `TypeError` naming what is wrong (a policy is code). */
export function resolvePolicy(policy: UploadPolicy): ResolvedPolicy {
  const types = policy.types.map((type) => type.trim().toLowerCase())
  if (types.length === 0)
    throw new TypeError("A policy needs at least one type; use ['*/*'] to accept any file.")
  for (const type of types) {
    if (!MIME_PATTERN.test(type) || (type.startsWith('*/') && type !== '*/*'))
      throw new TypeError(`${JSON.stringify(type)} is not a MIME type or pattern such as 'image/*'.`)
  }
  const maxFiles = policy.maxFiles ?? DEFAULT_MAX_FILES
  if (!Number.isSafeInteger(maxFiles) || maxFiles < 1)
    throw new TypeError(`maxFiles must be 1 or more, got ${maxFiles}.`)
  const label = policy.label ?? 'files'
  const resolved: ResolvedPolicy = {
    maxBytes: parseSize(policy.maxSize),
    types,
    maxFiles,
    contentCheck: policy.contentCheck ?? true,
    label,
  }
  return policy.compress
    ? { ...resolved, compress: resolveCompression(policy.compress, types, label) }
    : resolved
}

/** Applies defaults to a route's `compress` and checks that its output is a file the route accepts. */
export function resolveCompression(
  compress: ImageCompression,
  types: readonly string[],
  label = 'files',
): ResolvedImageCompression {
  const resolved = { ...DEFAULT_IMAGE_COMPRESSION, ...compress }
  const { maxEdge, type, quality } = resolved
  if (!Number.isSafeInteger(maxEdge) || maxEdge < 16 || maxEdge > 16_384)
    throw new TypeError(`compress.maxEdge must be a whole number of pixels from 16 to 16384, got ${maxEdge}.`)
  if (!(COMPRESSION_TYPES as readonly string[]).includes(type))
    throw new TypeError(
      `compress.type must be one of ${COMPRESSION_TYPES.join(', ')} (what browsers encode), got ${JSON.stringify(type)}.`,
    )
  if (!(typeof quality === 'number' && quality > 0 && quality <= 1))
    throw new TypeError(`compress.quality must be more than 0 and at most 1, got ${quality}.`)
  // Otherwise every compressed image would be refused by the server on create, long after the app started.
  if (!typeAllowed(types, type))
    throw new TypeError(
      `compress.type is ${type}, which ${label} do not accept: add ${JSON.stringify(type)} to the route's types or compress to a type it accepts.`,
    )
  return { maxEdge, type, quality }
}

/**
 * The MIME type upkit records for a file: browsers report `''` for unknown extensions, which we treat as opaque
 * bytes rather than refusing the file.
 */
export function normalizeMimeType(mimeType: string): string {
  const base = mimeType.split(';')[0]?.trim().toLowerCase() ?? ''
  return base === '' ? 'application/octet-stream' : base
}

/**
 * Types a wildcard never matches; only an exact entry accepts them. SVG is an image that can carry script, so
 * `'image/*'` means the raster images people expect from a picture field.
 */
const EXPLICIT_ONLY = new Set(['image/svg+xml'])

/** Whether a (normalized) type is accepted by a list of types and patterns. */
export function typeAllowed(types: readonly string[], mimeType: string): boolean {
  if (types.includes(mimeType)) return true
  if (EXPLICIT_ONLY.has(mimeType)) return false
  const [family] = mimeType.split('/')
  return types.some((type) => type === '*/*' || type === `${family}/*`)
}

export interface FileDescription {
  readonly fileName: string
  readonly size: number
  readonly mimeType: string
}

/**
 * Checks a file against a route's policy; throws an `UpkitError` with a message for the person uploading. The
 * browser calls it when a file is added so people learn at once; the server calls it again without trusting the
 * browser.
 */
export function assertFileAllowed(policy: ResolvedPolicy, file: FileDescription): void {
  if (!Number.isSafeInteger(file.size) || file.size < 0) {
    throw new UpkitError('INVALID_INPUT', `"${file.fileName}" has an invalid size.`)
  }
  if (file.size === 0) {
    throw new UpkitError('FILE_EMPTY', `"${file.fileName}" is empty.`)
  }
  if (file.size > policy.maxBytes) {
    throw new UpkitError(
      'FILE_TOO_LARGE',
      `"${file.fileName}" is ${formatBytes(file.size)}; ${policy.label} can be at most ${formatBytes(policy.maxBytes)}.`,
    )
  }
  const type = normalizeMimeType(file.mimeType)
  if (!typeAllowed(policy.types, type)) {
    throw new UpkitError(
      'FILE_TYPE_NOT_ALLOWED',
      // A long list helps nobody read an alert: past a handful, say what is wrong and leave the list out.
      policy.types.length <= MAX_LISTED_TYPES
        ? `"${file.fileName}" is ${type}; ${policy.label} must be one of: ${policy.types.join(', ')}.`
        : `"${file.fileName}" is ${type}, which ${policy.label} do not accept.`,
    )
  }
}

/** Like `assertFileAllowed`, as a value: `null` when allowed, else the error. */
export function checkFileAllowed(policy: ResolvedPolicy, file: FileDescription): UpkitError | null {
  try {
    assertFileAllowed(policy, file)
    return null
  } catch (error) {
    if (error instanceof UpkitError) return error
    throw error
  }
}
