import { createHash } from 'node:crypto'
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'
import { type FileHandle, open } from 'node:fs/promises'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { partRange, planTransfer, SNIFF_BYTES, type TransferPlan } from '@upkit/core'
import type { BucketStorage, CompletedPart } from '@upkit/storage'
import { detectMimeType } from './mime'

/** Files up to this size are read into memory in one call: one syscall and one hash beat a stream's overhead. */
const BUFFER_MAX = 1024 * 1024
const STREAM_CHUNK = 1024 * 1024
/** Parts of one multipart file in flight at once; each holds one part's bytes in memory. */
const PARTS_IN_FLIGHT = 3

export interface OpenedFile {
  /** Null when the whole file was read into `bytes`. */
  handle: FileHandle | null
  /** The whole file, for files up to 1 MiB. */
  bytes: Buffer | null
  size: number
  head: Uint8Array
  mimeType: string
}

/**
 * Opens a file without following a symbolic link in its last segment (O_NOFOLLOW; the scan already refused
 * links in the folders above) and reads its first bytes for the type check.
 */
export async function openLegacyFile(
  absolutePath: string,
  fileName: string,
  expectedSize: number,
): Promise<OpenedFile> {
  if (expectedSize <= BUFFER_MAX) {
    const small = readSmallFile(absolutePath, fileName)
    if (small !== null) return small
  }
  const handle = await open(absolutePath, constants.O_RDONLY | constants.O_NOFOLLOW)
  try {
    const stat = await handle.stat()
    if (!stat.isFile()) throw new Error('not a regular file')
    const head = new Uint8Array(Math.min(SNIFF_BYTES, stat.size))
    if (head.length > 0) await handle.read(head, 0, head.length, 0)
    return { handle, bytes: null, size: stat.size, head, mimeType: detectMimeType(fileName, head) }
  } catch (error) {
    await handle.close()
    throw error
  }
}

/**
 * Small files are read with blocking calls: four syscalls on a local disk take microseconds, while the promise
 * API's thread-pool round trips cost more CPU than the read itself, and with thousands of small files that CPU
 * is the migration's bottleneck. Null when the file has grown past the limit since the scan.
 */
function readSmallFile(absolutePath: string, fileName: string): OpenedFile | null {
  const fd = openSync(absolutePath, constants.O_RDONLY | constants.O_NOFOLLOW)
  try {
    const stat = fstatSync(fd)
    if (!stat.isFile()) throw new Error('not a regular file')
    if (stat.size > BUFFER_MAX) return null
    const bytes = Buffer.allocUnsafe(stat.size)
    let read = 0
    while (read < stat.size) {
      const count = readSync(fd, bytes, read, stat.size - read, read)
      if (count === 0) throw new Error('the file shrank while it was being read')
      read += count
    }
    const head = bytes.subarray(0, Math.min(SNIFF_BYTES, bytes.length))
    return { handle: null, bytes, size: stat.size, head, mimeType: detectMimeType(fileName, head) }
  } finally {
    closeSync(fd)
  }
}

export async function closeLegacyFile(file: OpenedFile): Promise<void> {
  await file.handle?.close()
}

export const unquoteEtag = (etag: string | undefined): string | undefined =>
  etag?.trim().replace(/^"|"$/g, '')

/**
 * The ETag S3 gives an object uploaded the way `planTransfer` says: the hex MD5 for a single PUT, and for
 * multipart the MD5 of the concatenated binary part MD5s followed by `-<part count>`.
 */
export function expectedEtag(partMd5s: readonly Buffer[], plan: TransferPlan): string {
  if (plan.type === 'single') return (partMd5s[0] ?? createHash('md5').digest()).toString('hex')
  const combined = createHash('md5')
  for (const md5 of partMd5s) combined.update(md5)
  return `${combined.digest('hex')}-${partMd5s.length}`
}

/** Hashes the file as `planTransfer` would split it, without uploading: the re-run's "is it already there?" check. */
export async function localEtag(file: OpenedFile): Promise<string> {
  const plan = planTransfer(file.size)
  if (file.bytes !== null && plan.type === 'single') {
    return expectedEtag([createHash('md5').update(file.bytes).digest()], plan)
  }
  if (file.handle === null) throw new Error('localEtag: file has neither bytes nor handle')
  const partSize = plan.type === 'multipart' ? plan.partSize : Math.max(file.size, 1)
  const md5s: Buffer[] = []
  let hash = createHash('md5')
  let inPart = 0
  const stream = file.handle.createReadStream({ start: 0, autoClose: false, highWaterMark: STREAM_CHUNK })
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let offset = 0
    while (offset < chunk.length) {
      const take = Math.min(partSize - inPart, chunk.length - offset)
      hash.update(chunk.subarray(offset, offset + take))
      inPart += take
      offset += take
      if (inPart === partSize) {
        md5s.push(hash.digest())
        hash = createHash('md5')
        inPart = 0
      }
    }
  }
  if (inPart > 0 || md5s.length === 0) md5s.push(hash.digest())
  return expectedEtag(md5s, plan)
}

export interface CopyOutcome {
  /** Unquoted ETag the object must have (computed locally while reading). */
  etag: string
  /**
   * Unquoted ETag the bucket answered to the PUT (or CompleteMultipartUpload): the MD5 of what it stored, so
   * `etag === bucketEtag` verifies the copy without a HEAD. Undefined when the provider sent none.
   */
  bucketEtag: string | undefined
  plan: TransferPlan
}

/**
 * Sends the file to `key`, hashing while reading, so each byte is read once. Verification is the caller's
 * job (`verifyUpload`), done after the transfer and before any database write.
 */
export async function uploadFile(
  storage: BucketStorage,
  file: OpenedFile,
  key: string,
  onBytes: (bytes: number) => void,
): Promise<CopyOutcome> {
  const plan = planTransfer(file.size)
  if (plan.type === 'multipart')
    return { ...(await uploadMultipart(storage, file, key, plan, onBytes)), plan }
  if (file.bytes !== null) {
    const body = file.bytes
    const md5 = createHash('md5').update(body).digest()
    const put = await storage.putObject({ key, body, contentType: file.mimeType, contentLength: file.size })
    onBytes(file.size)
    return { etag: expectedEtag([md5], plan), bucketEtag: unquoteEtag(put.etag), plan }
  }
  if (file.handle === null) throw new Error('uploadFile: file has neither bytes nor handle')
  const hash = createHash('md5')
  const source = file.handle.createReadStream({
    start: 0,
    end: file.size - 1,
    autoClose: false,
    highWaterMark: STREAM_CHUNK,
  })
  const body = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk)
      onBytes(chunk.length)
      callback(null, chunk)
    },
  })
  // The SDK consumes `body`; pipeline only carries errors between the two and never settles before the SDK.
  const piping = pipeline(source, body)
  const [put] = await Promise.all([
    storage.putObject({ key, body, contentType: file.mimeType, contentLength: file.size }),
    piping,
  ])
  return { etag: expectedEtag([hash.digest()], plan), bucketEtag: unquoteEtag(put.etag), plan }
}

async function uploadMultipart(
  storage: BucketStorage,
  file: OpenedFile,
  key: string,
  plan: Extract<TransferPlan, { type: 'multipart' }>,
  onBytes: (bytes: number) => void,
): Promise<{ etag: string; bucketEtag: string | undefined }> {
  const handle = file.handle
  if (handle === null) throw new Error('uploadMultipart: file has no handle')
  const { uploadId } = await storage.createMultipartUpload({ key, contentType: file.mimeType })
  try {
    const md5s: Buffer[] = []
    const parts: CompletedPart[] = []
    const inFlight = new Set<Promise<void>>()
    for (let partNumber = 1; partNumber <= plan.partCount; partNumber++) {
      const range = partRange(plan, partNumber)
      if (range === null) throw new Error(`part ${partNumber} is outside the plan`)
      const start = range.start
      const length = range.end - range.start
      const bytes = Buffer.allocUnsafe(length)
      let read = 0
      while (read < length) {
        const { bytesRead } = await handle.read(bytes, read, length - read, start + read)
        if (bytesRead === 0) throw new Error('the file shrank while it was being read')
        read += bytesRead
      }
      md5s.push(createHash('md5').update(bytes).digest())
      const sending = storage
        .uploadPart({ key, uploadId, partNumber, body: bytes, contentLength: length })
        .then(({ etag }) => {
          parts.push({ partNumber, etag })
          onBytes(length)
        })
      const tracked: Promise<void> = sending.finally(() => inFlight.delete(tracked))
      // Handled here so a part failing while we read the next one is not an unhandled rejection; the
      // race/all below still sees the error.
      tracked.catch(() => {})
      inFlight.add(tracked)
      if (inFlight.size >= PARTS_IN_FLIGHT) await Promise.race(inFlight)
    }
    await Promise.all(inFlight)
    const completed = await storage.completeMultipartUpload({ key, uploadId, parts })
    return { etag: expectedEtag(md5s, plan), bucketEtag: unquoteEtag(completed.etag) }
  } catch (error) {
    await storage.abortMultipartUpload({ key, uploadId }).catch(() => {})
    throw error
  }
}

/**
 * The copy is verified when the bucket's answer to the upload carries the ETag computed from the file's bytes
 * (the bucket's MD5 of what it stored; the signed Content-Length already bound the size): one request per file
 * instead of two. Only a provider that answers without an ETag costs a HEAD.
 */
export async function verifyUpload(
  storage: BucketStorage,
  key: string,
  size: number,
  outcome: Pick<CopyOutcome, 'etag' | 'bucketEtag'>,
): Promise<string | null> {
  if (outcome.bucketEtag === undefined) return verifyObject(storage, key, size, outcome.etag)
  if (outcome.bucketEtag === outcome.etag) return null
  return `the bucket stored bytes with ETag ${outcome.bucketEtag}, the file's is ${outcome.etag}`
}

/** HEAD the object: it must have the file's size and the ETag computed from its bytes. */
export async function verifyObject(
  storage: BucketStorage,
  key: string,
  size: number,
  etag: string,
): Promise<string | null> {
  const head = await storage.head(key)
  if (head === null) return 'the object is missing from the bucket after the upload'
  if (head.size !== size) return `the object has ${head.size} bytes in the bucket, the file ${size}`
  const actual = unquoteEtag(head.etag)
  if (actual !== etag) return `the object's ETag ${actual ?? '(none)'} does not match the file's ${etag}`
  return null
}
