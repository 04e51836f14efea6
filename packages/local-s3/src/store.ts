import { createHash, randomBytes } from 'node:crypto'
import {
  closeSync,
  createReadStream,
  openSync,
  readSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import {
  copyFile,
  constants as fsConstants,
  link,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  writeFile,
} from 'node:fs/promises'
import { join } from 'node:path'
import type { CorsRule } from './cors'
import { noSuchBucket, noSuchKey, noSuchUpload, preconditionFailed, S3Error } from './errors'

/** Big file-stream buffers: the default 64 KiB costs a syscall per chunk on 1 GiB uploads. */
export const STREAM_HIGH_WATER_MARK = 1024 * 1024

/** The HTTP headers an object keeps and returns as given at upload time. */
export const STORED_HEADERS = [
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'expires',
] as const

export interface StoredHeaders {
  contentType: string
  /** Lowercased names from STORED_HEADERS. */
  headers: Record<string, string>
  /** `x-amz-meta-*` values, keyed by the lowercased full header name. */
  metadata: Record<string, string>
}

export interface ObjectMeta extends StoredHeaders {
  key: string
  /**
   * Data files inside the bucket's objects folder, concatenated in order: one for a PUT, one per part for a
   * multipart upload (the parts are hard-linked in, so completing never copies or re-reads data). Fresh names
   * per version make the swap to a new version atomic.
   */
  segments: { file: string; size: number }[]
  size: number
  /** Quoted, as in the ETag header. */
  etag: string
  lastModified: string
}

export interface BucketState {
  name: string
  created: string
  cors: CorsRule[] | undefined
  objects: Map<string, ObjectMeta>
  sortedKeys: string[] | undefined
}

export interface PartMeta {
  partNumber: number
  file: string
  size: number
  /** Hex MD5 without quotes; the multipart ETag is built from the binary digests. */
  md5: string
  lastModified: string
}

export interface UploadState extends StoredHeaders {
  uploadId: string
  bucket: string
  key: string
  initiated: string
  parts: Map<number, PartMeta>
}

const BUCKET_NAME = /^(?!\d+\.\d+\.\d+\.\d+$)(?!xn--)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
const UPLOAD_ID = /^[0-9a-f]{32}$/

export function isValidBucketName(name: string): boolean {
  return BUCKET_NAME.test(name) && !name.includes('..') && !name.includes('.-') && !name.includes('-.')
}

const keyHash = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex')
// A random prefix per process (files outlive it) plus a counter: unique without asking the OS for randomness on
// every request, which showed up in profiles.
const suffixPrefix = randomBytes(6).toString('hex')
let suffixCounter = 0
const uniqueSuffix = () => `${suffixPrefix}${(suffixCounter++).toString(16).padStart(6, '0')}`

/** S3 lists keys in UTF-8 byte order, which differs from JS (UTF-16) order above U+D7FF. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'
}

async function writeJsonAtomic(path: string, tmpPath: string, value: unknown) {
  await writeFile(tmpPath, JSON.stringify(value))
  await rename(tmpPath, path)
}

/**
 * Blocking on purpose, for the per-object and per-part records (a few hundred bytes): each promise-API call is a
 * round trip through libuv's thread pool, and on a small machine those hand-offs cost more CPU and latency than
 * the microsecond syscalls themselves; they were most of a small PUT's cost.
 */
function writeJsonAtomicSync(path: string, tmpPath: string, value: unknown) {
  writeFileSync(tmpPath, JSON.stringify(value))
  renameSync(tmpPath, path)
}

/** Writes `chunks` to a new file with blocking calls (see writeJsonAtomicSync); `wx` never overwrites. */
function writeChunksSync(path: string, chunks: readonly Buffer[]) {
  const fd = openSync(path, 'wx')
  try {
    for (const chunk of chunks) {
      let written = 0
      while (written < chunk.length) written += writeSync(fd, chunk, written, chunk.length - written)
    }
  } finally {
    closeSync(fd)
  }
}

/** Ranges up to this size are read with blocking calls (`readObjectSync`). */
export const SMALL_READ_MAX = 64 * 1024

/** Bodies up to this size may be committed from memory (`{ chunks }` sources) with blocking writes. */
export const IN_MEMORY_BODY_MAX = 1024 * 1024

/** What a new object version is made of: a file to move or link in, or a small body held in memory. */
export type ObjectSource = { path: string; size: number; keep: boolean } | { chunks: Buffer[]; size: number }

/**
 * Buckets, objects and multipart uploads on disk. Memory holds an index loaded at start (this process owns
 * the folder); every change is written to disk before the index shows it, so readers never see a
 * half-written object and a restart finds everything that was acknowledged.
 *
 * Layout: buckets/<bucket>/bucket.json, buckets/<bucket>/objects/<sha256(key)>.json (+ its data files),
 * uploads/<uploadId>/upload.json, uploads/<uploadId>/part-<n>.json (+ data), tmp/.
 */
export class Store {
  readonly root: string
  readonly buckets = new Map<string, BucketState>()
  readonly uploads = new Map<string, UploadState>()
  private readonly locks = new Map<string, Promise<unknown>>()
  /** Open readers per data file, and files to remove once their last reader is done. */
  private readonly readers = new Map<string, number>()
  private readonly doomed = new Set<string>()

  constructor(root: string) {
    this.root = root
  }

  private get tmpDir() {
    return join(this.root, 'tmp')
  }
  private bucketDir(bucket: string) {
    return join(this.root, 'buckets', bucket)
  }
  private objectsDir(bucket: string) {
    return join(this.bucketDir(bucket), 'objects')
  }
  private uploadDir(uploadId: string) {
    return join(this.root, 'uploads', uploadId)
  }

  /** A fresh path in the temp folder, on the same file system so that rename is atomic. */
  tmpPath(): string {
    return join(this.tmpDir, `${Date.now()}-${uniqueSuffix()}`)
  }

  /**
   * Pins the object's data files until the returned release is called, so an overwrite or delete running
   * meanwhile cannot remove them under a reader. Synchronous on purpose: no await between lookup and pin.
   */
  pinObject(bucket: string, meta: ObjectMeta): () => Promise<void> {
    const paths = meta.segments.map((s) => join(this.objectsDir(bucket), s.file))
    for (const path of paths) this.readers.set(path, (this.readers.get(path) ?? 0) + 1)
    let released = false
    return async () => {
      if (released) return
      released = true
      for (const path of paths) {
        const count = (this.readers.get(path) ?? 1) - 1
        if (count > 0) {
          this.readers.set(path, count)
          continue
        }
        this.readers.delete(path)
        if (this.doomed.delete(path)) await rm(path, { force: true })
      }
    }
  }

  /**
   * Bytes [start, end] of the object, read with blocking calls, for ranges up to SMALL_READ_MAX (an upload's
   * content check reads its first few KiB): a stream's open, read and close are three thread-pool round trips,
   * which cost more than the read. Nothing to pin: no other request runs before it returns, and data files are
   * removed only once no record points to them.
   */
  readObjectSync(bucket: string, meta: ObjectMeta, start: number, end: number): Buffer {
    const out = Buffer.allocUnsafe(end - start + 1)
    let filled = 0
    let offset = 0
    for (const segment of meta.segments) {
      const segmentEnd = offset + segment.size - 1
      if (segment.size > 0 && segmentEnd >= start && offset <= end) {
        const from = Math.max(start, offset) - offset
        const to = Math.min(end, segmentEnd) - offset
        const fd = openSync(join(this.objectsDir(bucket), segment.file), 'r')
        try {
          let read = 0
          while (read < to - from + 1) {
            const n = readSync(fd, out, filled + read, to - from + 1 - read, from + read)
            if (n === 0) throw new Error(`${segment.file} is shorter than its record says`)
            read += n
          }
          filled += read
        } finally {
          closeSync(fd)
        }
      }
      offset += segment.size
      if (offset > end) break
    }
    return out
  }

  /** Streams bytes [start, end] of the object across its data files. */
  async *readObject(bucket: string, meta: ObjectMeta, start: number, end: number): AsyncGenerator<Buffer> {
    let offset = 0
    for (const segment of meta.segments) {
      const segmentEnd = offset + segment.size - 1
      if (segment.size > 0 && segmentEnd >= start && offset <= end) {
        yield* createReadStream(join(this.objectsDir(bucket), segment.file), {
          start: Math.max(start, offset) - offset,
          end: Math.min(end, segmentEnd) - offset,
          highWaterMark: STREAM_HIGH_WATER_MARK,
        })
      }
      offset += segment.size
      if (offset > end) break
    }
  }

  private async removeObjectFiles(bucket: string, meta: ObjectMeta) {
    for (const segment of meta.segments) {
      const path = join(this.objectsDir(bucket), segment.file)
      if (this.readers.has(path)) this.doomed.add(path)
      else await rm(path, { force: true })
    }
  }

  /** Serialises the commit steps touching one name (object key, part, upload). */
  private async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(name) ?? Promise.resolve()
    const run = previous.then(fn, fn)
    const tail = run.catch(() => {})
    this.locks.set(name, tail)
    try {
      return await run
    } finally {
      if (this.locks.get(name) === tail) this.locks.delete(name)
    }
  }

  async load(): Promise<void> {
    // Whatever is in tmp is an upload that never finished: it was never acknowledged.
    await rm(this.tmpDir, { recursive: true, force: true })
    await mkdir(this.tmpDir, { recursive: true })
    await mkdir(join(this.root, 'buckets'), { recursive: true })
    await mkdir(join(this.root, 'uploads'), { recursive: true })

    for (const name of await readdir(join(this.root, 'buckets'))) {
      if (!isValidBucketName(name)) continue
      let info: { created: string; cors?: CorsRule[] }
      try {
        info = JSON.parse(await readFile(join(this.bucketDir(name), 'bucket.json'), 'utf8'))
      } catch (error) {
        if (isMissing(error)) continue
        throw error
      }
      const bucket: BucketState = {
        name,
        created: info.created,
        cors: info.cors,
        objects: new Map(),
        sortedKeys: undefined,
      }
      const dir = this.objectsDir(name)
      await mkdir(dir, { recursive: true })
      const files = await readdir(dir)
      const referenced = new Set<string>()
      for (const file of files) {
        if (!file.endsWith('.json')) continue
        const meta = JSON.parse(await readFile(join(dir, file), 'utf8')) as ObjectMeta
        bucket.objects.set(meta.key, meta)
        for (const segment of meta.segments) referenced.add(segment.file)
      }
      // Data files whose commit was interrupted (or whose old version was not yet removed).
      for (const file of files) {
        if (!file.endsWith('.json') && !referenced.has(file)) await rm(join(dir, file), { force: true })
      }
      this.buckets.set(name, bucket)
    }

    for (const uploadId of await readdir(join(this.root, 'uploads'))) {
      if (!UPLOAD_ID.test(uploadId)) continue
      const dir = this.uploadDir(uploadId)
      let info: Omit<UploadState, 'parts'>
      try {
        info = JSON.parse(await readFile(join(dir, 'upload.json'), 'utf8'))
      } catch (error) {
        if (isMissing(error)) {
          await rm(dir, { recursive: true, force: true })
          continue
        }
        throw error
      }
      const upload: UploadState = { ...info, parts: new Map() }
      const files = await readdir(dir)
      const referenced = new Set<string>()
      for (const file of files) {
        if (!file.startsWith('part-') || !file.endsWith('.json')) continue
        const part = JSON.parse(await readFile(join(dir, file), 'utf8')) as PartMeta
        upload.parts.set(part.partNumber, part)
        referenced.add(part.file)
      }
      for (const file of files) {
        if (!file.endsWith('.json') && !referenced.has(file)) await rm(join(dir, file), { force: true })
      }
      this.uploads.set(uploadId, upload)
    }
  }

  getBucket(name: string): BucketState {
    const bucket = this.buckets.get(name)
    if (!bucket) throw noSuchBucket(name)
    return bucket
  }

  /** Creates the bucket; returns false when it already existed. */
  async createBucket(name: string, cors?: CorsRule[]): Promise<boolean> {
    if (!isValidBucketName(name)) {
      throw new S3Error('InvalidBucketName', 400, 'The specified bucket is not valid.', { BucketName: name })
    }
    return this.withLock(`bucket\n${name}`, async () => {
      if (this.buckets.has(name)) return false
      const created = new Date().toISOString()
      await mkdir(this.objectsDir(name), { recursive: true })
      await writeJsonAtomic(join(this.bucketDir(name), 'bucket.json'), this.tmpPath(), { created, cors })
      this.buckets.set(name, { name, created, cors, objects: new Map(), sortedKeys: undefined })
      return true
    })
  }

  async deleteBucket(name: string): Promise<void> {
    await this.withLock(`bucket\n${name}`, async () => {
      const bucket = this.getBucket(name)
      const hasUploads = [...this.uploads.values()].some((u) => u.bucket === name)
      if (bucket.objects.size > 0 || hasUploads) {
        throw new S3Error('BucketNotEmpty', 409, 'The bucket you tried to delete is not empty', {
          BucketName: name,
        })
      }
      this.buckets.delete(name)
      await rm(this.bucketDir(name), { recursive: true, force: true })
    })
  }

  async setCors(name: string, cors: CorsRule[] | undefined): Promise<void> {
    await this.withLock(`bucket\n${name}`, async () => {
      const bucket = this.getBucket(name)
      await writeJsonAtomic(join(this.bucketDir(name), 'bucket.json'), this.tmpPath(), {
        created: bucket.created,
        cors,
      })
      bucket.cors = cors
    })
  }

  sortedKeys(bucket: BucketState): string[] {
    bucket.sortedKeys ??= [...bucket.objects.keys()].sort(compareKeys)
    return bucket.sortedKeys
  }

  getObject(bucket: string, key: string): ObjectMeta {
    const meta = this.getBucket(bucket).objects.get(key)
    if (!meta) throw noSuchKey(key)
    return meta
  }

  /**
   * Makes `sources` the object's new version, then drops the old one. A temp file is renamed in; a multipart
   * part is hard-linked in (it stays valid in its upload until the commit is done), so both are O(1). A small
   * body in memory is written straight to its fresh data file: nothing refers to that name until the record
   * below is renamed into place, and `load` removes data files no record refers to, so no temp file is needed.
   */
  async commitObject(
    bucketName: string,
    key: string,
    sources: ObjectSource[],
    fields: StoredHeaders & { size: number; etag: string },
    /** `If-None-Match: *`: refuse (412) when the key exists, checked under the key's lock so two writers never both win. */
    ifNoneMatch = false,
  ): Promise<ObjectMeta> {
    return this.withLock(`object\n${bucketName}\n${key}`, async () => {
      const bucket = this.getBucket(bucketName)
      if (ifNoneMatch && bucket.objects.has(key)) throw preconditionFailed('If-None-Match')
      const hash = keyHash(key)
      const version = uniqueSuffix()
      const dir = this.objectsDir(bucketName)
      const segments: ObjectMeta['segments'] = []
      for (const [i, source] of sources.entries()) {
        const file = `${hash}-${version}-${i + 1}.data`
        const target = join(dir, file)
        if ('chunks' in source) writeChunksSync(target, source.chunks)
        else if (!source.keep) await rename(source.path, target)
        else {
          try {
            await link(source.path, target)
          } catch {
            // File systems without hard links: a kernel-side copy (reflink where available).
            await copyFile(source.path, target, fsConstants.COPYFILE_FICLONE)
          }
        }
        segments.push({ file, size: source.size })
      }
      const meta: ObjectMeta = { key, segments, lastModified: new Date().toISOString(), ...fields }
      writeJsonAtomicSync(join(dir, `${hash}.json`), this.tmpPath(), meta)
      const previous = bucket.objects.get(key)
      bucket.objects.set(key, meta)
      if (!previous) bucket.sortedKeys = undefined
      else await this.removeObjectFiles(bucketName, previous)
      return meta
    })
  }

  async deleteObject(bucketName: string, key: string): Promise<void> {
    await this.withLock(`object\n${bucketName}\n${key}`, async () => {
      const bucket = this.getBucket(bucketName)
      const previous = bucket.objects.get(key)
      if (!previous) return
      await rm(join(this.objectsDir(bucketName), `${keyHash(key)}.json`), { force: true })
      bucket.objects.delete(key)
      bucket.sortedKeys = undefined
      await this.removeObjectFiles(bucketName, previous)
    })
  }

  async createUpload(bucket: string, key: string, headers: StoredHeaders): Promise<UploadState> {
    this.getBucket(bucket)
    const uploadId = randomBytes(16).toString('hex')
    const upload: UploadState = {
      uploadId,
      bucket,
      key,
      initiated: new Date().toISOString(),
      ...headers,
      parts: new Map(),
    }
    const { parts: _, ...info } = upload
    await mkdir(this.uploadDir(uploadId), { recursive: true })
    await writeJsonAtomic(join(this.uploadDir(uploadId), 'upload.json'), this.tmpPath(), info)
    this.uploads.set(uploadId, upload)
    return upload
  }

  /** The upload, checked to belong to this bucket and key (S3 answers NoSuchUpload otherwise). */
  getUpload(bucket: string, key: string, uploadId: string): UploadState {
    this.getBucket(bucket)
    const upload = UPLOAD_ID.test(uploadId) ? this.uploads.get(uploadId) : undefined
    if (!upload || upload.bucket !== bucket || upload.key !== key) throw noSuchUpload(uploadId)
    return upload
  }

  async commitPart(upload: UploadState, partNumber: number, tmpFile: string, size: number, md5: string) {
    return this.withLock(`upload\n${upload.uploadId}`, async () => {
      if (this.uploads.get(upload.uploadId) !== upload) throw noSuchUpload(upload.uploadId)
      const dir = this.uploadDir(upload.uploadId)
      const part: PartMeta = {
        partNumber,
        file: `part-${partNumber}-${uniqueSuffix()}.data`,
        size,
        md5,
        lastModified: new Date().toISOString(),
      }
      await rename(tmpFile, join(dir, part.file))
      writeJsonAtomicSync(join(dir, `part-${partNumber}.json`), this.tmpPath(), part)
      const previous = upload.parts.get(partNumber)
      upload.parts.set(partNumber, part)
      if (previous) await rm(join(dir, previous.file), { force: true })
      return part
    })
  }

  async abortUpload(upload: UploadState): Promise<void> {
    await this.withLock(`upload\n${upload.uploadId}`, async () => {
      if (this.uploads.get(upload.uploadId) !== upload) throw noSuchUpload(upload.uploadId)
      this.uploads.delete(upload.uploadId)
      await rm(this.uploadDir(upload.uploadId), { recursive: true, force: true })
    })
  }

  /**
   * Turns the chosen parts into the object without reading or copying any data: the part files are
   * hard-linked in as the object's segments and the ETag comes from the part MD5s kept at upload time.
   */
  async completeUpload(
    upload: UploadState,
    requested: { partNumber: number; etag: string }[],
    ifNoneMatch = false,
  ): Promise<ObjectMeta> {
    return this.withLock(`upload\n${upload.uploadId}`, async () => {
      if (this.uploads.get(upload.uploadId) !== upload) throw noSuchUpload(upload.uploadId)
      const parts = choosePartsToComplete(upload, requested)
      const dir = this.uploadDir(upload.uploadId)
      const { contentType, headers, metadata } = upload
      const meta = await this.commitObject(
        upload.bucket,
        upload.key,
        parts.map((p) => ({ path: join(dir, p.file), size: p.size, keep: true })),
        {
          contentType,
          headers,
          metadata,
          size: parts.reduce((total, p) => total + p.size, 0),
          etag: multipartEtag(parts),
        },
        ifNoneMatch,
      )
      this.uploads.delete(upload.uploadId)
      await rm(dir, { recursive: true, force: true })
      return meta
    })
  }
}

/** S3 refuses parts other than the last below 5 MiB. */
export const MIN_PART_SIZE = 5 * 1024 * 1024

const unquote = (etag: string) => etag.trim().replace(/^"|"$/g, '')

/** Checks a CompleteMultipartUpload part list as S3 does and returns the parts it names, in order. */
function choosePartsToComplete(
  upload: UploadState,
  requested: { partNumber: number; etag: string }[],
): PartMeta[] {
  if (requested.length === 0) {
    throw new S3Error(
      'MalformedXML',
      400,
      'You must specify at least one part in the CompleteMultipartUpload request.',
    )
  }
  for (let i = 1; i < requested.length; i++) {
    if (
      (requested[i] as { partNumber: number }).partNumber <=
      (requested[i - 1] as { partNumber: number }).partNumber
    ) {
      throw new S3Error(
        'InvalidPartOrder',
        400,
        'The list of parts was not in ascending order. Parts must be ordered by part number.',
        { UploadId: upload.uploadId },
      )
    }
  }
  const parts = requested.map(({ partNumber, etag }) => {
    const part = upload.parts.get(partNumber)
    if (!part || part.md5 !== unquote(etag)) {
      throw new S3Error(
        'InvalidPart',
        400,
        "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
        {
          UploadId: upload.uploadId,
          PartNumber: String(partNumber),
          ETag: etag,
        },
      )
    }
    return part
  })
  parts.forEach((part, i) => {
    if (i < parts.length - 1 && part.size < MIN_PART_SIZE) {
      throw new S3Error(
        'EntityTooSmall',
        400,
        'Your proposed upload is smaller than the minimum allowed size',
        {
          UploadId: upload.uploadId,
          PartNumber: String(part.partNumber),
          ProposedSize: String(part.size),
          MinSizeAllowed: String(MIN_PART_SIZE),
        },
      )
    }
  })
  return parts
}

/** AWS's multipart ETag: the MD5 of the concatenated binary part MD5s, then `-<part count>`. */
export function multipartEtag(parts: { md5: string }[]): string {
  const hash = createHash('md5')
  for (const part of parts) hash.update(Buffer.from(part.md5, 'hex'))
  return `"${hash.digest('hex')}-${parts.length}"`
}
