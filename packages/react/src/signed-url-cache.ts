import type { SignedPart } from '@upkit/core'
import { signBatch } from './part-plan'
import { presignedUrlExpiresAt } from './transfer-errors'

/** A signed URL with the moment it stops working (from its SigV4 query), `null` when the URL does not say. */
export interface SignedUrl {
  readonly url: string
  readonly headers: Record<string, string>
  readonly expiresAt: number | null
}

export function toSignedUrl(signed: { url: string; headers: Record<string, string> }): SignedUrl {
  return { url: signed.url, headers: signed.headers, expiresAt: presignedUrlExpiresAt(signed.url) }
}

/** Whether `url` still has more than `marginMs` to live (a URL that does not say is taken as fresh). */
export function isFresh(url: SignedUrl | undefined, marginMs: number, now = Date.now()): url is SignedUrl {
  return url !== undefined && (url.expiresAt === null || url.expiresAt - now > marginMs)
}

export interface PartUrlCacheOptions {
  /** Most parts one `signParts` call asks for. */
  readonly batchSize: number
  /** A URL with less than this left is signed again before use. */
  readonly expiryMarginMs: number
  /** Signs the given parts (one `uploads.signParts` round trip). */
  readonly signParts: (partNumbers: number[]) => Promise<readonly SignedPart[]>
}

/**
 * The signed part URLs of one multipart upload. A part that needs a URL is signed together with the next parts
 * still to send (one round trip for the whole file instead of one per part), and parts whose signing is already
 * on its way wait for it instead of asking again.
 */
export class PartUrlCache {
  readonly #urls = new Map<number, SignedUrl>()
  readonly #signing = new Map<number, Promise<void>>()
  readonly #options: PartUrlCacheOptions

  constructor(options: PartUrlCacheOptions) {
    this.#options = options
  }

  /** Adds URLs signed elsewhere (those `create` answered with). */
  add(parts: readonly SignedPart[]): void {
    for (const part of parts) this.#urls.set(part.partNumber, toSignedUrl(part))
  }

  /** Drops a part's URL, so the next `get` signs it again (the bucket said it expired). */
  forget(partNumber: number): void {
    this.#urls.delete(partNumber)
  }

  clear(): void {
    this.#urls.clear()
  }

  /** A fresh URL for `partNumber`; `pending` lists the parts still to send, in order, to sign along with it. */
  async get(partNumber: number, pending: readonly number[]): Promise<SignedUrl> {
    const cached = this.#urls.get(partNumber)
    if (isFresh(cached, this.#options.expiryMarginMs)) return cached
    const inFlight = this.#signing.get(partNumber)
    if (inFlight) await inFlight
    else {
      const batch = signBatch(
        partNumber,
        pending,
        (n) => isFresh(this.#urls.get(n), this.#options.expiryMarginMs) || this.#signing.has(n),
        this.#options.batchSize,
      )
      const signing = this.#options.signParts(batch).then((parts) => this.add(parts))
      for (const n of batch) this.#signing.set(n, signing)
      try {
        await signing
      } finally {
        for (const n of batch) if (this.#signing.get(n) === signing) this.#signing.delete(n)
      }
    }
    const url = this.#urls.get(partNumber)
    if (!url) throw new Error(`The server did not sign part ${partNumber}.`)
    return url
  }
}
