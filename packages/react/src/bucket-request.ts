import { AbortedError } from './backoff'
import { BucketHttpError, NetworkError, StalledError } from './transfer-errors'

export interface BucketRequest {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE'
  readonly url: string
  /** The signed headers, sent as they are (minus those the browser owns, see below). */
  readonly headers: Record<string, string>
  readonly body?: Blob | string | null
  readonly signal: AbortSignal
  /** Upload progress in bytes of `body`. */
  readonly onProgress?: (loaded: number) => void
  /** Abort and report a stall when no upload or download event arrives for this long. */
  readonly stallTimeoutMs: number
  /** Words for error messages: `part 3 of "video.mp4"`. */
  readonly what: string
}

export interface BucketResponse {
  readonly status: number
  readonly etag: string | null
  readonly text: string
}

/**
 * Headers XMLHttpRequest refuses to set: the browser sends Content-Length from the body itself (which is
 * exactly the signed length, since the body is exactly the signed bytes) and Host from the URL.
 */
const BROWSER_OWNED_HEADERS = new Set(['content-length', 'host'])

/**
 * One request to the bucket with XMLHttpRequest: unlike fetch, it reports upload progress in every browser.
 * Resolves on 2xx; rejects with NetworkError, StalledError, BucketHttpError or AbortedError.
 */
export function sendToBucket(request: BucketRequest): Promise<BucketResponse> {
  return new Promise((resolve, reject) => {
    if (request.signal.aborted) return reject(new AbortedError())
    const xhr = new XMLHttpRequest()
    let stallTimer: ReturnType<typeof setTimeout> | undefined
    const armStallTimer = () => {
      clearTimeout(stallTimer)
      stallTimer = setTimeout(() => {
        cleanup()
        xhr.abort()
        reject(
          new StalledError(
            `No progress on ${request.what} for ${Math.round(request.stallTimeoutMs / 1000)} s.`,
          ),
        )
      }, request.stallTimeoutMs)
    }
    const onAbort = () => {
      cleanup()
      xhr.abort()
      reject(new AbortedError())
    }
    const cleanup = () => {
      clearTimeout(stallTimer)
      request.signal.removeEventListener('abort', onAbort)
    }
    request.signal.addEventListener('abort', onAbort, { once: true })

    xhr.open(request.method, request.url)
    for (const [name, value] of Object.entries(request.headers)) {
      if (!BROWSER_OWNED_HEADERS.has(name.toLowerCase())) xhr.setRequestHeader(name, value)
    }
    xhr.upload.onprogress = (event) => {
      armStallTimer()
      request.onProgress?.(event.loaded)
    }
    xhr.onprogress = armStallTimer
    xhr.onerror = () => {
      cleanup()
      reject(new NetworkError(`Could not reach the storage for ${request.what}.`))
    }
    xhr.onload = () => {
      cleanup()
      const text = xhr.responseText
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve({ status: xhr.status, etag: xhr.getResponseHeader('ETag'), text })
      } else {
        reject(new BucketHttpError(xhr.status, text, request.what))
      }
    }
    armStallTimer()
    xhr.send(request.body ?? null)
  })
}
