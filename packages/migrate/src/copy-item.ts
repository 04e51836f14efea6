import { createHash } from 'node:crypto'
import { join } from 'node:path'
import {
  assertFileAllowed,
  assertInlineImageAllowed,
  bytesMatchType,
  formatBytes,
  normalizeMimeType,
  planTransfer,
} from '@upkit/core'
import type { InlineImage } from '@upkit/server'
import { abortMultipartUploads, type BucketStorage } from '@upkit/storage'
import {
  closeLegacyFile,
  localEtag,
  type OpenedFile,
  openLegacyFile,
  unquoteEtag,
  uploadFile,
  verifyUpload,
} from './copy-file'
import type { WorkItem } from './plan'

export type Finished =
  | {
      ok: true
      item: WorkItem
      size: number
      mimeType: string
      /** The verified object's ETag (bucket routes). */
      etag: string | null
      /** The image's sha256 (inline routes). */
      sha256: string | null
      partSize: number | null
      /** The checked image, for the inline route's `onStored` (inline routes). */
      image: InlineImage | null
      /** The object was already in the bucket from a killed run, so no byte was sent again. */
      reused: boolean
    }
  | { ok: false; item: WorkItem; reason: string }

/** Copies one bucket item (or reads and checks one inline item); never throws, a problem is a failure. */
export async function copyItem(
  storage: BucketStorage,
  root: string,
  item: WorkItem,
  onBytes: (bytes: number) => void,
): Promise<Finished> {
  let file: OpenedFile
  try {
    file = await openLegacyFile(join(root, item.path), item.fileName, item.size)
  } catch (error) {
    return { ok: false, item, reason: `cannot open the file: ${errorMessage(error)}` }
  }
  try {
    if (item.route.type === 'bucket') return await copyToBucket(storage, item, file, onBytes)
    return await readInlineImage(item, file, onBytes)
  } catch (error) {
    return { ok: false, item, reason: errorMessage(error) }
  } finally {
    await closeLegacyFile(file)
  }
}

/**
 * The legacy row's declared type when the bytes agree with it (or the route checks no content), else what the
 * bytes and the extension say: the type a live upload's content check would have let through.
 */
function mimeTypeOf(item: WorkItem, file: OpenedFile): string {
  const declared = item.reference.mimeType
  if (declared === undefined || declared === '') return file.mimeType
  const type = normalizeMimeType(declared)
  const checksContent = item.route.type === 'inline' || item.route.policy.contentCheck
  return !checksContent || bytesMatchType(type, file.head) ? type : file.mimeType
}

async function copyToBucket(
  storage: BucketStorage,
  item: WorkItem,
  file: OpenedFile,
  onBytes: (bytes: number) => void,
): Promise<Finished> {
  if (item.route.type !== 'bucket' || item.key === null) throw new Error('not a bucket item')
  const key = item.key
  const mimeType = mimeTypeOf(item, file)
  try {
    // The route's own rules, as for a live upload: a legacy file the app would refuse today stays where it is.
    assertFileAllowed(item.route.policy, { fileName: item.fileName, size: file.size, mimeType })
  } catch (error) {
    return { ok: false, item, reason: `refused by route "${item.routeName}": ${errorMessage(error)}` }
  }
  const plan = planTransfer(file.size)
  const partSize = plan.type === 'multipart' ? plan.partSize : null
  const base = { ok: true as const, item, size: file.size, mimeType, sha256: null, partSize, image: null }
  if (item.resumed) {
    const head = await storage.head(key)
    if (head !== null && head.size === file.size) {
      const etag = await localEtag(file)
      if (unquoteEtag(head.etag) === etag) {
        onBytes(file.size)
        return { ...base, etag, reused: true }
      }
    }
    if (plan.type === 'multipart') await abortMultipartUploads(storage, key)
  }
  const outcome = await uploadFile(storage, { ...file, mimeType }, key, onBytes)
  const problem = await verifyUpload(storage, key, file.size, outcome)
  if (problem !== null) {
    // Nothing points at the key yet; removing the bad copy keeps the bucket free of unreferenced objects.
    await storage.deleteObject(key).catch(() => {})
    return { ok: false, item, reason: `verification failed: ${problem}` }
  }
  return { ...base, etag: outcome.etag, reused: false }
}

/**
 * Inline routes keep their bytes in the app's table, so the file is checked as the route checks a live image
 * (`assertInlineImageAllowed`: size, type, dimensions) and kept in memory for the route's `onStored`. A refused
 * image is a failure with the reason and what to do about it.
 */
async function readInlineImage(
  item: WorkItem,
  file: OpenedFile,
  onBytes: (bytes: number) => void,
): Promise<Finished> {
  if (item.route.type !== 'inline') throw new Error('not an inline item')
  const policy = item.route.policy
  const refuse = (reason: string): Finished => ({
    ok: false,
    item,
    reason: `refused by route "${item.routeName}": ${reason.replace(/\.$/, '')}; resize it and upload it again through the app`,
  })
  // Checked before reading, so a huge file named as a logo is never loaded into memory.
  if (file.size > policy.maxBytes) {
    return refuse(
      `the ${policy.label} is ${formatBytes(file.size)}; it can be at most ${formatBytes(policy.maxBytes)}`,
    )
  }
  const bytes = new Uint8Array(file.size)
  if (file.bytes !== null) bytes.set(file.bytes)
  else if (file.size > 0) await file.handle?.read(bytes, 0, file.size, 0)
  let info: ReturnType<typeof assertInlineImageAllowed>
  try {
    info = assertInlineImageAllowed(policy, bytes)
  } catch (error) {
    return refuse(errorMessage(error))
  }
  onBytes(file.size)
  const hash = createHash('sha256').update(bytes).digest('hex')
  return {
    ok: true,
    item,
    size: file.size,
    mimeType: info.type,
    etag: null,
    sha256: hash,
    partSize: null,
    image: { bytes, mimeType: info.type, hash, width: info.width, height: info.height },
    reused: false,
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
