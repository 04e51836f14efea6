import {
  assertInlineImageAllowed,
  fileUrl,
  isUpkitError,
  type ResolvedInlineImagePolicy,
  THUMBNAIL_LIMITS,
  UpkitError,
  type UpkitPaths,
} from '@upkit/core'
import { decodeBase64 } from '../inline/decode-base64'
import { verifyImage } from '../inline/verify-image'
import type { StoredThumbnail } from '../store/upload-store'

/** The `/thumbnail` suffix of a file's URL: `<paths.files><id>/thumbnail`. */
export const THUMBNAIL_PATH_SUFFIX = '/thumbnail'

export function thumbnailUrl(paths: UpkitPaths, uploadId: string): string {
  return `${fileUrl(paths, uploadId)}${THUMBNAIL_PATH_SUFFIX}`
}

/**
 * Decodes and checks a thumbnail sent with `confirm` the way inline images are checked (strict base64, size, magic
 * bytes, header dimensions, then the whole file), so nothing but a complete small image is stored and served. Its
 * type is what the bytes say, never what the browser claimed. Every refusal is `THUMBNAIL_INVALID`: the upload
 * itself is fine, and the browser can tell this apart from a refused file and confirm again without it.
 */
export async function checkThumbnail(base64: string, fileName: string): Promise<StoredThumbnail> {
  const label = `thumbnail of "${fileName}"`
  const policy: ResolvedInlineImagePolicy = {
    maxBytes: THUMBNAIL_LIMITS.maxBytes,
    types: THUMBNAIL_LIMITS.types,
    maxDimension: THUMBNAIL_LIMITS.maxEdge,
    targetSize: THUMBNAIL_LIMITS.maxEdge,
    label,
  }
  try {
    const bytes = decodeBase64(base64, policy.maxBytes, label)
    const info = assertInlineImageAllowed(policy, bytes)
    await verifyImage(bytes, info, label)
    return { bytes, mimeType: info.type }
  } catch (error) {
    if (!isUpkitError(error)) throw error
    throw new UpkitError('THUMBNAIL_INVALID', `${error.message} Nothing was confirmed; confirm without it.`, {
      cause: error,
    })
  }
}
