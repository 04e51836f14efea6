// Runs in Chromium (bundled by page-server.ts). The real UpkitUploader, with an api whose `create` always plans a
// single PUT, so the browser's one-request upload of a large file can be measured against curl; plus the bare
// XMLHttpRequest and fetch PUTs, to tell the uploader's cost from the browser's; and a plain multipart upload
// (no Uppy, no tRPC) to tell the uploader's multipart logic from Chromium's cost of sending Blob slices.
import type { CreatedUpload, SignedRequest, UploadApi, UploadRecord } from '@upkit/core'
import { type UpkitUploadBody, UpkitUploader } from '@upkit/react'
import Uppy, { type Meta } from '@uppy/core'
import type { PlainMultipartPlan } from '../page-server'

async function post<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(path, { method: 'POST', body: JSON.stringify(body) })
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

function pickedFile(): File {
  const file = (document.getElementById('file') as HTMLInputElement).files?.[0]
  if (!file) throw new Error('no file chosen')
  return file
}

const api: UploadApi = {
  create: (input) => post<CreatedUpload>('/create', input),
  sign: (input) => post<SignedRequest>('/sign', input),
  signParts: () => Promise.reject(new Error('the bench page plans single PUTs only')),
  createMany: () => Promise.reject(new Error('not used by the bench')),
  confirmMany: () => Promise.reject(new Error('not used by the bench')),
  resume: () => Promise.reject(new Error('not used by the bench')),
  confirm: (input) => post<UploadRecord>('/confirm', input),
  cancel: () => Promise.resolve(null),
  policies: () => Promise.resolve({}),
  list: () => Promise.resolve([]),
  usage: () => Promise.reject(new Error('not used by the bench')),
  download: () => Promise.reject(new Error('not used by the bench')),
  delete: () => Promise.reject(new Error('not used by the bench')),
  setInline: () => Promise.reject(new Error('not used by the bench')),
  removeInline: () => Promise.reject(new Error('not used by the bench')),
}

/** Milliseconds from `upload()` to Uppy's result, create/sign/confirm round trips (to the bench) included. */
async function viaUploader(): Promise<number> {
  const file = pickedFile()
  const uppy = new Uppy<Meta, UpkitUploadBody>({ autoProceed: false })
  uppy.use(UpkitUploader, { api, call: { route: 'bench', input: {} } })
  uppy.addFile({ name: file.name, type: file.type, data: file, source: 'bench' })
  const started = performance.now()
  const result = await uppy.upload()
  const elapsed = performance.now() - started
  const failed = result?.failed ?? []
  uppy.destroy()
  if (failed.length > 0 || (result?.successful ?? []).length !== 1) {
    throw new Error(`uploader failed: ${failed.map((f) => f.error).join('; ')}`)
  }
  return elapsed
}

async function signedPut(file: File): Promise<SignedRequest> {
  return post<SignedRequest>('/sign-put', {
    size: file.size,
    mimeType: file.type || 'application/octet-stream',
  })
}

/**
 * One bare XMLHttpRequest PUT (what the uploader's single PUT boils down to), with a progress listener. With
 * `sliced`, the body is `file.slice(0)`: the same bytes as a Blob slice, as multipart parts are sent.
 */
async function viaXhr(sliced = false): Promise<number> {
  const file = pickedFile()
  const body = sliced ? file.slice(0) : file
  const signed = await signedPut(file)
  const started = performance.now()
  await new Promise<void>((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('PUT', signed.url)
    for (const [name, value] of Object.entries(signed.headers)) xhr.setRequestHeader(name, value)
    xhr.upload.onprogress = () => {}
    xhr.onerror = () => reject(new Error('xhr network error'))
    xhr.onload = () => (xhr.status === 200 ? resolve() : reject(new Error(`xhr ${xhr.status}`)))
    xhr.send(body)
  })
  return performance.now() - started
}

/** One bare `fetch` PUT of the File. */
async function viaFetch(): Promise<number> {
  const file = pickedFile()
  const signed = await signedPut(file)
  const started = performance.now()
  const res = await fetch(signed.url, { method: 'PUT', headers: signed.headers, body: file })
  if (res.status !== 200) throw new Error(`fetch ${res.status}: ${await res.text()}`)
  return performance.now() - started
}

/** The uploader's default `partConcurrency`, so both multipart runs keep as many parts in flight. */
const PART_CONCURRENCY = 6
/** The browser sets these from the body and the URL; XHR refuses them (as the uploader's bucket-request.ts). */
const BROWSER_OWNED_HEADERS = new Set(['content-length', 'host'])

function xhrSend(
  method: 'PUT' | 'POST',
  url: string,
  headers: Record<string, string>,
  body: Blob | string,
): Promise<XMLHttpRequest> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open(method, url)
    for (const [name, value] of Object.entries(headers)) {
      if (!BROWSER_OWNED_HEADERS.has(name.toLowerCase())) xhr.setRequestHeader(name, value)
    }
    // The uploader listens for progress; so does this run, so it pays the same for the events.
    xhr.upload.onprogress = () => {}
    xhr.onerror = () => reject(new Error(`xhr ${method} network error`))
    xhr.onload = () =>
      xhr.status === 200
        ? resolve(xhr)
        : reject(new Error(`xhr ${method} ${xhr.status}: ${xhr.responseText}`))
    xhr.send(body)
  })
}

/**
 * Multipart with nothing of upkit's in the way: the bench process already created the upload and presigned
 * every part and the Complete; the page sends the parts as `file.slice()` with PART_CONCURRENCY XHRs in flight,
 * then POSTs Complete. Milliseconds from the first part to Complete answered.
 */
async function viaPlainMultipart(): Promise<number> {
  const file = pickedFile()
  const plan = await post<PlainMultipartPlan>('/plain-multipart', {
    size: file.size,
    mimeType: file.type || 'application/octet-stream',
  })
  const started = performance.now()
  const etags: string[] = []
  let next = 0
  const worker = async () => {
    while (next < plan.parts.length) {
      const part = plan.parts[next++]
      if (!part) break
      const xhr = await xhrSend('PUT', part.url, part.headers, file.slice(part.start, part.end))
      const etag = xhr.getResponseHeader('ETag')
      if (!etag) throw new Error(`no ETag for part ${part.partNumber} (is ETag exposed by CORS?)`)
      etags[part.partNumber - 1] = etag
    }
  }
  await Promise.all(Array.from({ length: PART_CONCURRENCY }, worker))
  const xml = `<CompleteMultipartUpload>${etags
    .map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`)
    .join('')}</CompleteMultipartUpload>`
  const completed = await xhrSend('POST', plan.complete.url, plan.complete.headers, xml)
  // S3 may answer 200 and still report the failure in the body.
  if (completed.responseText.includes('<Error>'))
    throw new Error(`Complete failed: ${completed.responseText}`)
  return performance.now() - started
}

Object.assign(window, {
  bench: { viaUploader, viaXhr, viaXhrSlice: () => viaXhr(true), viaFetch, viaPlainMultipart },
})
document.body.dataset.ready = 'true'
