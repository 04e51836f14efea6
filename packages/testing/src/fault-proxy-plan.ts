import type { IncomingMessage } from 'node:http'

/**
 * How a bucket request can fail on purpose:
 * - `slowDown`: answered 503 SlowDown at once, never forwarded (S3 throttling a prefix);
 * - `resetMidBody`: forwarded, then the client's connection is destroyed part-way through the request body (the
 *   bucket never gets the whole request) or through the answer (the bucket did the work, the client never hears);
 * - `hang`: read and never answered nor forwarded (a half-open connection, a load balancer that lost it);
 * - `completeThen500`: a CompleteMultipartUpload forwarded and completed, then answered 500 InternalError (S3's
 *   documented "the request may have succeeded" case).
 */
export type FaultKind = 'slowDown' | 'resetMidBody' | 'hang' | 'completeThen500'

export const FAULT_KINDS: readonly FaultKind[] = ['slowDown', 'resetMidBody', 'hang', 'completeThen500']

/** Which S3 operation a request is, told from its method and query (path-style addressing). */
export type BucketRequestType =
  | 'preflight'
  | 'putObject'
  | 'uploadPart'
  | 'createMultipart'
  | 'completeMultipart'
  | 'listParts'
  | 'abortMultipart'
  | 'headObject'
  | 'getObject'
  | 'listObjects'
  | 'listMultipartUploads'
  | 'deleteObject'
  | 'deleteObjects'
  | 'other'

export interface ProxiedRequest {
  readonly type: BucketRequestType
  readonly method: string
  /** Path and query as the client sent them. */
  readonly url: string
  /** Whether it came from a browser (it has an Origin header): the uploader's requests, not the server's. */
  readonly fromBrowser: boolean
}

/** Which kinds make sense for a request: only a CompleteMultipartUpload can complete and then fail. */
export function kindApplies(kind: FaultKind, request: ProxiedRequest): boolean {
  if (request.type === 'preflight') return false
  if (kind === 'completeThen500') return request.type === 'completeMultipart'
  return true
}

export function describeRequest(req: IncomingMessage): ProxiedRequest {
  const method = (req.method ?? 'GET').toUpperCase()
  const url = req.url ?? '/'
  return { type: classifyRequest(method, url), method, url, fromBrowser: req.headers.origin !== undefined }
}

export function classifyRequest(method: string, rawUrl: string): BucketRequestType {
  const url = new URL(rawUrl, 'http://proxy.invalid')
  const query = url.searchParams
  // Path-style: /bucket is the bucket, /bucket/key... an object.
  const onObject = url.pathname.split('/').filter((segment) => segment !== '').length > 1
  switch (method) {
    case 'OPTIONS':
      return 'preflight'
    case 'PUT':
      if (!onObject) return 'other'
      return query.has('uploadId') && query.has('partNumber') ? 'uploadPart' : 'putObject'
    case 'POST':
      if (query.has('uploads')) return 'createMultipart'
      if (query.has('uploadId')) return 'completeMultipart'
      if (query.has('delete')) return 'deleteObjects'
      return 'other'
    case 'GET':
      if (!onObject) return query.has('uploads') ? 'listMultipartUploads' : 'listObjects'
      return query.has('uploadId') ? 'listParts' : 'getObject'
    case 'HEAD':
      return onObject ? 'headObject' : 'other'
    case 'DELETE':
      if (!onObject) return 'other'
      return query.has('uploadId') ? 'abortMultipart' : 'deleteObject'
    default:
      return 'other'
  }
}

/** mulberry32: tiny, fast and good enough to pick faults; the same seed gives the same sequence of draws. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/**
 * The share of requests like `request` to fault, 0 to 1, given the counts so far (`request` already counted):
 * a test can fault a rare operation more often, or make sure each kind shows up once.
 */
export type FaultRate = (request: ProxiedRequest, counts: FaultCounts) => number

/**
 * A fault a test wants on a given request whatever the draws say (the first CreateMultipartUpload's answer cut,
 * say), or null to leave the request to the rate. A kind that does not apply to the request is ignored.
 */
export type FaultScript = (request: ProxiedRequest, counts: FaultCounts) => FaultKind | null

export interface FaultCounts {
  /** Requests seen, per type (faulted or not). */
  readonly requests: Partial<Record<BucketRequestType, number>>
  /** Faults injected, per kind. */
  readonly faults: Record<FaultKind, number>
  /** Faults injected, per request type and kind. */
  readonly faultsByType: Partial<Record<BucketRequestType, Partial<Record<FaultKind, number>>>>
}

/**
 * Decides, request by request, whether to inject a fault and which. Draws come from one seeded sequence, so a
 * run's decisions repeat for the same seed and the same order of arrival (concurrent clients may arrive in another
 * order from one run to the next: the seed then reproduces the mix, not which request got which fault).
 */
export class FaultPlan {
  readonly #random: () => number
  readonly #kinds: readonly FaultKind[]
  #rate: FaultRate
  readonly #script: FaultScript | undefined
  readonly #requests: Partial<Record<BucketRequestType, number>> = {}
  readonly #faults: Record<FaultKind, number> = { slowDown: 0, resetMidBody: 0, hang: 0, completeThen500: 0 }
  readonly #faultsByType: Partial<Record<BucketRequestType, Partial<Record<FaultKind, number>>>> = {}

  constructor(options: {
    seed: number
    kinds: readonly FaultKind[]
    rate: number | FaultRate
    script?: FaultScript | undefined
  }) {
    for (const kind of options.kinds) {
      if (!FAULT_KINDS.includes(kind)) throw new TypeError(`Unknown fault kind ${JSON.stringify(kind)}.`)
    }
    this.#random = seededRandom(options.seed)
    this.#kinds = options.kinds
    this.#rate = toRate(options.rate)
    this.#script = options.script
  }

  setRate(rate: number | FaultRate): void {
    this.#rate = toRate(rate)
  }

  /** The fault to inject into `request`, or null to forward it untouched; counts it either way. */
  decide(request: ProxiedRequest): FaultKind | null {
    this.#requests[request.type] = (this.#requests[request.type] ?? 0) + 1
    const eligible = this.#kinds.filter((kind) => kindApplies(kind, request))
    if (eligible.length === 0) return null
    const scripted = this.#script?.(request, this.counts()) ?? null
    if (scripted !== null && eligible.includes(scripted)) return this.#count(scripted, request)
    if (this.#random() >= this.#rate(request, this.counts())) return null
    // The least used kind first: with a few percent of a few hundred requests, uniform picks often leave a kind
    // out entirely, and a run should show every failure it was asked for. Ties go to the seeded draw.
    const fewest = Math.min(...eligible.map((kind) => this.#faults[kind]))
    const candidates = eligible.filter((kind) => this.#faults[kind] === fewest)
    // completeThen500 first among equals: it fits one rare request type, and another kind can take the next one.
    const kind = candidates.includes('completeThen500')
      ? 'completeThen500'
      : (candidates[Math.floor(this.#random() * candidates.length)] ?? eligible[0])
    if (kind === undefined) return null
    return this.#count(kind, request)
  }

  #count(kind: FaultKind, request: ProxiedRequest): FaultKind {
    this.#faults[kind]++
    const byType = this.#faultsByType[request.type] ?? {}
    this.#faultsByType[request.type] = byType
    byType[kind] = (byType[kind] ?? 0) + 1
    return kind
  }

  /** A draw from the same seeded sequence, for choices a fault makes (where to cut a body). */
  random(): number {
    return this.#random()
  }

  counts(): FaultCounts {
    return structuredClone({
      requests: this.#requests,
      faults: this.#faults,
      faultsByType: this.#faultsByType,
    })
  }
}

function toRate(rate: number | FaultRate): FaultRate {
  if (typeof rate === 'function') return rate
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new RangeError(`The fault rate must be a number from 0 to 1, got ${rate}.`)
  }
  return () => rate
}

/** The counts as a few lines for a test's output: requests per type, then faults per kind and per type. */
export function formatFaultCounts(seed: number, counts: FaultCounts): string {
  const total = Object.values(counts.requests).reduce((sum, n) => sum + n, 0)
  const faulted = Object.values(counts.faults).reduce((sum, n) => sum + n, 0)
  const list = (record: Partial<Record<string, number>>) =>
    Object.entries(record)
      .filter(([, n]) => (n ?? 0) > 0)
      .map(([name, n]) => `${name} ${n}`)
      .join(', ')
  const byType = Object.entries(counts.faultsByType)
    .map(([type, kinds]) => `${type}: ${list(kinds ?? {})}`)
    .join('; ')
  return [
    `fault proxy seed ${seed}: ${faulted} faults in ${total} requests`,
    `  requests: ${list(counts.requests)}`,
    `  faults:   ${list(counts.faults) || 'none'}`,
    `  by type:  ${byType || 'none'}`,
  ].join('\n')
}
