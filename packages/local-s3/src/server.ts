import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pipeline } from 'node:stream/promises'
import { type BodyResult, type BodySource, expectedBodyLength, readSmallBody, verifiedBody } from './body'
import {
  type CorsRule,
  corsXml,
  exposeHeadersOf,
  matchCorsRule,
  parseCorsXml,
  validateCorsRules,
} from './cors'
import { invalidArgument, malformedXml, notImplemented, S3Error } from './errors'
import {
  type LifecycleRule,
  LifecycleStore,
  lifecycleXml,
  noSuchLifecycleConfiguration,
  parseLifecycleXml,
  validateLifecycleRules,
} from './lifecycle'
import { listObjects } from './list'
import { type AuthResult, encodeRfc3986, parseRawQuery, type RawQueryParam, verifySignature } from './sigv4'
import {
  IN_MEMORY_BODY_MAX,
  isValidBucketName,
  type ObjectMeta,
  SMALL_READ_MAX,
  STORED_HEADERS,
  STREAM_HIGH_WATER_MARK,
  Store,
  type StoredHeaders,
} from './store'
import {
  assertContentMd5,
  assertCorsApi,
  assertDeleteObjectsApi,
  assertMetadataSize,
  type LocalS3Quirks,
  refuseVirtualHost,
  resolveQuirks,
  virtualHostBucket,
} from './strict'
import { childrenNamed, childText, el, escapeXml, parseXml, xmlDocument } from './xml'

export interface LocalS3Options {
  /** Folder for buckets, objects and in-progress multipart uploads. Survives restarts. */
  dir: string
  /** Default 0 (a free port), so parallel test files never collide. */
  port?: number
  /** Default '127.0.0.1' (never listen on other interfaces by default: this is a dev server). */
  host?: string
  accessKeyId: string
  secretAccessKey: string
  /** Default 'us-east-1' (the SDKs' usual default). Requests signed for another region are refused (403). */
  region?: string
  /**
   * Buckets created at start if missing. Default none. A bucket given `cors` gets exactly those rules (replacing
   * stored ones), so the options stay the source of truth across restarts; without `cors` stored rules are kept.
   */
  buckets?: { name: string; cors?: CorsRule[]; lifecycle?: LifecycleRule[] }[]
  /**
   * Conditional writes (`If-None-Match: *` on PutObject and CompleteMultipartUpload). Default `'enforce'`, as AWS
   * S3, R2 and MinIO do: 412 PreconditionFailed when the key exists. `'ignore'` accepts and overwrites like a
   * provider without conditional writes, so an app can be tested against what it gets there.
   */
  conditionalWrites?: 'enforce' | 'ignore'
  /**
   * Milliseconds added to this server's clock, for testing what a machine with a wrong clock gets: the SigV4 time
   * checks (RequestTimeTooSkewed past 15 minutes, presigned expiry) and the `Date` header use the skewed time.
   * Default 0.
   */
  clockSkewMs?: number
  /**
   * Provider quirks to reproduce (see `LocalS3Quirks`): `true` turns on all of them, an object picks some. Default
   * off, so the server answers like AWS S3; turn it on to test an app against Ceph RGW, Swift's s3api, B2 and the
   * like, where DeleteObjects needs Content-MD5, the CORS API is missing or only path style is served.
   */
  strict?: boolean | LocalS3Quirks
}

export interface LocalS3Server {
  /** Base URL for clients, e.g. `http://127.0.0.1:9000`; use path-style addressing (`forcePathStyle`). */
  endpoint: string
  port: number
  /** Stops listening, drops open connections (so the port is free at once) and waits for in-flight writes. */
  close(): Promise<void>
}

/** S3's own limits: 5 GiB per PUT and per part, 10 000 parts, 1 000 keys per list/delete page. */
const MAX_OBJECT_SIZE = 5 * 1024 ** 3
const MAX_PARTS = 10_000
const MAX_KEYS = 1000
const MAX_XML_BODY = 2 * 1024 * 1024
/** Below this an unread body is drained so the client reads our error instead of a reset connection. */
const DRAIN_LIMIT = 1024 * 1024
const OWNER = { ID: 'b8f0c5f7e1a2d3c4b5a69788fedcba0123456789abcdef0123456789abcdef01', DisplayName: 'upkit' }
const ownerXml = (name: string) =>
  `<${name}>${el('ID', OWNER.ID)}${el('DisplayName', OWNER.DisplayName)}</${name}>`

/** Query parameters that select an operation; everything else (list options, X-Amz-*, x-id…) does not. */
const SUBRESOURCES = new Set([
  'accelerate',
  'acl',
  'analytics',
  'attributes',
  'cors',
  'delete',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'legal-hold',
  'lifecycle',
  'location',
  'logging',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'partNumber',
  'policy',
  'policyStatus',
  'publicAccessBlock',
  'replication',
  'requestPayment',
  'restore',
  'retention',
  'select',
  'session',
  'tagging',
  'torrent',
  'uploadId',
  'uploads',
  'versioning',
  'versions',
  'website',
])

const RESPONSE_OVERRIDES = {
  'response-cache-control': 'Cache-Control',
  'response-content-disposition': 'Content-Disposition',
  'response-content-encoding': 'Content-Encoding',
  'response-content-language': 'Content-Language',
  'response-content-type': 'Content-Type',
  'response-expires': 'Expires',
} as const

interface Context extends BodySource {
  requestId: string
  rawPath: string
  query: RawQueryParam[]
  bucket: string
  key: string
  /** True when the path has a key part (`/bucket/` alone is still a bucket-level request). */
  hasKey: boolean
  subresources: string
  auth: AuthResult
}

function queryParam(ctx: Pick<Context, 'query'>, name: string): string | undefined {
  return ctx.query.find((p) => p.name === name)?.value
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value.join(',') : value
}

/** Node refuses header values outside Latin-1; S3 sends UTF-8 bytes, which is what this reproduces. */
function headerSafe(value: string): string {
  const clean = value.replace(/[\r\n]/g, ' ')
  return /[^\t\x20-\x7e\x80-\xff]/.test(clean) ? Buffer.from(clean, 'utf8').toString('latin1') : clean
}

const httpDate = (iso: string) => new Date(iso).toUTCString()

function storedHeadersFrom(req: IncomingMessage): StoredHeaders {
  const headers: Record<string, string> = {}
  for (const name of STORED_HEADERS) {
    let value = header(req, name)
    if (name === 'content-encoding' && value !== undefined) {
      // aws-chunked describes the transfer, not the object.
      value = value
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '' && v.toLowerCase() !== 'aws-chunked')
        .join(', ')
    }
    if (value) headers[name] = value
  }
  const metadata: Record<string, string> = {}
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith('x-amz-meta-') && value !== undefined) {
      metadata[name] = Array.isArray(value) ? value.join(',') : value
    }
  }
  return { contentType: header(req, 'content-type') ?? 'binary/octet-stream', headers, metadata }
}

export async function startLocalS3(options: LocalS3Options): Promise<LocalS3Server> {
  const host = options.host ?? '127.0.0.1'
  const enforceConditionalWrites = (options.conditionalWrites ?? 'enforce') === 'enforce'
  /** Whether a write must fail when the key exists. AWS implements only `*` for writes and refuses other values. */
  const ifNoneMatchOf = (req: IncomingMessage): boolean => {
    const value = header(req, 'if-none-match')
    if (value === undefined || !enforceConditionalWrites) return false
    if (value.trim() !== '*') throw notImplemented('If-None-Match on a write supports only "*".')
    return true
  }
  const quirks = resolveQuirks(options.strict)
  const credentials = {
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
    region: options.region ?? 'us-east-1',
  }
  await mkdir(options.dir, { recursive: true })
  const store = new Store(options.dir)
  await store.load()
  const lifecycle = new LifecycleStore(options.dir)
  await lifecycle.load(store.buckets.keys())
  const now = () => Date.now() + (options.clockSkewMs ?? 0)
  for (const bucket of options.buckets ?? []) {
    if (!isValidBucketName(bucket.name)) {
      throw new Error(`local-s3: invalid bucket name "${bucket.name}" (3-63 chars: a-z, 0-9, '.', '-')`)
    }
    await store.createBucket(bucket.name)
    if (bucket.cors) await store.setCors(bucket.name, validateCorsRules(bucket.cors))
    if (bucket.lifecycle) await lifecycle.set(bucket.name, validateLifecycleRules(bucket.lifecycle))
  }

  const inFlight = new Set<Promise<void>>()
  let endpoint = ''
  // Unique per request without a call for OS randomness on each one.
  const requestIdPrefix = randomBytes(4).toString('hex')
  let requestCounter = 0

  const server = createServer({ highWaterMark: STREAM_HIGH_WATER_MARK }, (req, res) => track(req, res, false))
  // Answering Expect: 100-continue ourselves lets a refused upload be refused before its body is sent.
  server.on('checkContinue', (req, res) => track(req, res, true))
  // A 1 GiB upload over a slow link must not hit Node's default 5-minute whole-request limit.
  server.requestTimeout = 0

  function track(req: IncomingMessage, res: ServerResponse, expectContinue: boolean) {
    const done = handle(req, res, expectContinue)
      .catch((error: unknown) => {
        console.error('[local-s3] request failed:', error)
        res.destroy()
      })
      .finally(() => inFlight.delete(done))
    inFlight.add(done)
  }

  async function handle(req: IncomingMessage, res: ServerResponse, expectContinue: boolean): Promise<void> {
    const requestId = `${requestIdPrefix}${(requestCounter++).toString(16).padStart(8, '0')}`.toUpperCase()
    res.setHeader('x-amz-request-id', requestId)
    res.setHeader('x-amz-id-2', requestId)
    res.setHeader('Server', 'UpkitLocalS3')
    if (options.clockSkewMs) res.setHeader('Date', new Date(now()).toUTCString())
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const rawPath = q === -1 ? url : url.slice(0, q)
    const ctx: Partial<Context> & BodySource = {
      req,
      res,
      requestId,
      rawPath,
      payloadHash: 'UNSIGNED-PAYLOAD',
      bodyStarted: false,
      expectContinue,
    }
    try {
      const query = parseRawQuery(q === -1 ? '' : url.slice(q + 1))
      ctx.query = query
      if (!rawPath.startsWith('/')) throw new S3Error('InvalidURI', 400, "Couldn't parse the specified URI.")
      const path = rawPath.slice(1)
      const slash = path.indexOf('/')
      const hostBucket = virtualHostBucket(req, (name) => store.buckets.has(name))
      if (hostBucket !== undefined && quirks.pathStyleOnly) throw refuseVirtualHost(hostBucket)
      let bucket: string
      let key: string
      try {
        if (hostBucket !== undefined) {
          // Virtual-hosted style: the whole path is the key (the SDKs use it for AWS-like endpoints).
          bucket = hostBucket
          key = decodeURIComponent(path)
        } else {
          bucket = decodeURIComponent(slash === -1 ? path : path.slice(0, slash))
          key = slash === -1 ? '' : decodeURIComponent(path.slice(slash + 1))
        }
      } catch {
        throw new S3Error('InvalidURI', 400, "Couldn't parse the specified URI.")
      }
      ctx.bucket = bucket
      ctx.key = key
      ctx.hasKey = key !== ''
      applyCors(ctx as Context)
      if (req.method === 'OPTIONS') return await preflight(ctx as Context)
      ctx.auth = verifySignature(req, rawPath, query, credentials, now())
      ctx.payloadHash = ctx.auth.payloadHash
      ctx.subresources = [...new Set(query.map((p) => p.name).filter((n) => SUBRESOURCES.has(n)))]
        .sort()
        .join('&')
      await route(ctx as Context)
    } catch (error) {
      await sendError(ctx, error)
    }
  }

  function applyCors(ctx: Context) {
    const origin = header(ctx.req, 'origin')
    const rules = ctx.bucket ? store.buckets.get(ctx.bucket)?.cors : undefined
    if (!origin || !rules || ctx.req.method === 'OPTIONS') return
    ctx.res.setHeader('Vary', 'Origin')
    const rule = matchCorsRule(rules, origin, ctx.req.method ?? '')
    if (!rule) return
    setAllowOrigin(ctx.res, rule, origin)
    ctx.res.setHeader('Access-Control-Allow-Methods', rule.allowedMethods.join(', '))
    const expose = exposeHeadersOf(rule)
    if (expose.length > 0) ctx.res.setHeader('Access-Control-Expose-Headers', expose.join(', '))
    if (rule.maxAgeSeconds !== undefined)
      ctx.res.setHeader('Access-Control-Max-Age', String(rule.maxAgeSeconds))
  }

  function setAllowOrigin(res: ServerResponse, rule: CorsRule, origin: string) {
    // Like S3: a bare `*` rule answers `*`; a specific origin is echoed and may carry credentials.
    if (rule.allowedOrigins.includes('*')) {
      res.setHeader('Access-Control-Allow-Origin', '*')
    } else {
      res.setHeader('Access-Control-Allow-Origin', origin)
      res.setHeader('Access-Control-Allow-Credentials', 'true')
    }
  }

  async function preflight(ctx: Context) {
    const { req, res } = ctx
    const origin = header(req, 'origin')
    const method = header(req, 'access-control-request-method')
    if (!origin || !method) {
      throw new S3Error('BadRequest', 400, 'Insufficient information. Origin request header needed.')
    }
    const forbidden = (message: string) => new S3Error('AccessForbidden', 403, message, { Method: method })
    const bucket = ctx.bucket ? store.buckets.get(ctx.bucket) : undefined
    if (!bucket) throw forbidden('CORSResponse: Bucket not found')
    if (!bucket.cors) throw forbidden('CORSResponse: CORS is not enabled for this bucket.')
    const requestHeaders = (header(req, 'access-control-request-headers') ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h !== '')
    const rule = matchCorsRule(bucket.cors, origin, method, requestHeaders)
    if (!rule) {
      throw forbidden(
        "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
      )
    }
    setAllowOrigin(res, rule, origin)
    res.setHeader('Access-Control-Allow-Methods', rule.allowedMethods.join(', '))
    if (requestHeaders.length > 0) res.setHeader('Access-Control-Allow-Headers', requestHeaders.join(', '))
    const expose = exposeHeadersOf(rule)
    if (expose.length > 0) res.setHeader('Access-Control-Expose-Headers', expose.join(', '))
    if (rule.maxAgeSeconds !== undefined) res.setHeader('Access-Control-Max-Age', String(rule.maxAgeSeconds))
    res.setHeader('Vary', 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method')
    await discardBody(ctx)
    send(ctx, 200)
  }

  async function route(ctx: Context) {
    const method = ctx.req.method ?? ''
    const sub = ctx.subresources
    if (!ctx.bucket) {
      if (method === 'GET' && sub === '') return listBuckets(ctx)
      throw notImplemented()
    }
    if (!ctx.hasKey) {
      switch (`${method} ${sub}`) {
        case 'PUT ':
          return createBucket(ctx)
        case 'HEAD ':
          return headBucket(ctx)
        case 'DELETE ':
          return deleteBucket(ctx)
        case 'GET ':
          return queryParam(ctx, 'list-type') === '2' ? listObjectsV2(ctx) : listObjectsV1(ctx)
        case 'GET location':
          return getBucketLocation(ctx)
        case 'PUT cors':
          assertCorsApi(quirks)
          return putBucketCors(ctx)
        case 'GET cors':
          assertCorsApi(quirks)
          return getBucketCors(ctx)
        case 'PUT lifecycle':
          return putBucketLifecycle(ctx)
        case 'GET lifecycle':
          return getBucketLifecycle(ctx)
        case 'DELETE lifecycle':
          return deleteBucketLifecycle(ctx)
        case 'DELETE cors':
          assertCorsApi(quirks)
          return deleteBucketCors(ctx)
        case 'POST delete':
          assertDeleteObjectsApi(quirks)
          return deleteObjects(ctx)
        case 'GET uploads':
          return listMultipartUploads(ctx)
      }
      throw notImplemented(`${method} ${sub ? `?${sub}` : ''} on a bucket is not implemented by this server.`)
    }
    switch (`${method} ${sub}`) {
      case 'PUT ':
        return putObject(ctx)
      case 'GET ':
      case 'HEAD ':
        return getObject(ctx)
      case 'DELETE ':
        return deleteObject(ctx)
      case 'POST uploads':
        return createMultipartUpload(ctx)
      case 'PUT partNumber&uploadId':
        return uploadPart(ctx)
      case 'POST uploadId':
        return completeMultipartUpload(ctx)
      case 'GET uploadId':
        return listParts(ctx)
      case 'DELETE uploadId':
        return abortMultipartUpload(ctx)
    }
    throw notImplemented(`${method} ${sub ? `?${sub}` : ''} on an object is not implemented by this server.`)
  }

  function send(ctx: BodySource, status: number, body?: string, headers: Record<string, string> = {}) {
    const { res, req } = ctx
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, headerSafe(value))
    if (body !== undefined) {
      res.setHeader('Content-Type', 'application/xml')
      res.setHeader('Content-Length', Buffer.byteLength(body))
    } else if (!res.hasHeader('Content-Length')) {
      res.setHeader('Content-Length', 0)
    }
    res.writeHead(status)
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  const sendXml = (ctx: BodySource, root: string, body: string) => send(ctx, 200, xmlDocument(root, body))

  /** Reads (and verifies) a body the operation has no use for, e.g. the empty body of a GET. */
  async function discardBody(ctx: BodySource) {
    await readSmallBody(ctx, DRAIN_LIMIT)
  }

  async function sendError(ctx: Partial<Context> & BodySource, error: unknown) {
    const { res, req } = ctx
    if (res.headersSent || res.destroyed) {
      res.destroy()
      return
    }
    let s3Error: S3Error
    if (error instanceof S3Error) {
      s3Error = error
    } else {
      console.error('[local-s3] internal error:', error)
      s3Error = new S3Error('InternalError', 500, 'We encountered an internal error. Please try again.')
    }
    if (!ctx.bodyStarted && !req.complete) {
      // Draining a small body keeps the connection usable and guarantees the client reads this answer.
      let length: number | undefined
      try {
        length = expectedBodyLength(ctx)
      } catch {
        length = undefined
      }
      if (ctx.expectContinue || length === undefined || length > DRAIN_LIMIT) {
        res.setHeader('Connection', 'close')
      } else {
        try {
          for await (const _ of req) {
            // discard
          }
        } catch {
          res.destroy()
          return
        }
      }
    } else if (!req.complete) {
      res.setHeader('Connection', 'close')
    }
    const resource = ctx.rawPath ?? '/'
    const body = xmlDocument(
      'Error',
      `${el('Code', s3Error.code)}${el('Message', s3Error.message)}${Object.entries(s3Error.extra)
        .map(([name, value]) => el(name, value))
        .join('')}${el('Resource', resource)}${el('RequestId', ctx.requestId)}${el('HostId', ctx.requestId)}`,
    ).replace(` xmlns="http://s3.amazonaws.com/doc/2006-03-01/"`, '')
    // Headers describing the object must not leak into an error.
    for (const name of ['etag', 'last-modified', 'content-range', 'accept-ranges']) res.removeHeader(name)
    send(ctx, s3Error.status, body, s3Error.headers)
  }

  // ---- service and bucket operations ----

  async function listBuckets(ctx: Context) {
    await discardBody(ctx)
    const buckets = [...store.buckets.values()]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((b) => `<Bucket>${el('Name', b.name)}${el('CreationDate', b.created)}</Bucket>`)
      .join('')
    sendXml(ctx, 'ListAllMyBucketsResult', `${ownerXml('Owner')}<Buckets>${buckets}</Buckets>`)
  }

  async function createBucket(ctx: Context) {
    await discardBody(ctx)
    if (!(await store.createBucket(ctx.bucket))) {
      throw new S3Error(
        'BucketAlreadyOwnedByYou',
        409,
        'Your previous request to create the named bucket succeeded and you already own it.',
        { BucketName: ctx.bucket },
      )
    }
    send(ctx, 200, undefined, { Location: `/${ctx.bucket}` })
  }

  async function headBucket(ctx: Context) {
    await discardBody(ctx)
    store.getBucket(ctx.bucket)
    send(ctx, 200, undefined, { 'x-amz-bucket-region': credentials.region })
  }

  async function deleteBucket(ctx: Context) {
    await discardBody(ctx)
    await store.deleteBucket(ctx.bucket)
    // A bucket created again under this name starts without the old one's rules, as on S3.
    await lifecycle.set(ctx.bucket, undefined)
    send(ctx, 204)
  }

  async function getBucketLocation(ctx: Context) {
    await discardBody(ctx)
    store.getBucket(ctx.bucket)
    // us-east-1 is reported as an empty LocationConstraint, as S3 does.
    const region = credentials.region === 'us-east-1' ? '' : credentials.region
    send(
      ctx,
      200,
      `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${escapeXml(region)}</LocationConstraint>`,
    )
  }

  async function putBucketCors(ctx: Context) {
    store.getBucket(ctx.bucket)
    assertContentMd5(quirks, ctx.req)
    const rules = parseCorsXml((await readSmallBody(ctx, MAX_XML_BODY)).toString('utf8'))
    await store.setCors(ctx.bucket, rules)
    send(ctx, 200)
  }

  async function getBucketCors(ctx: Context) {
    await discardBody(ctx)
    const bucket = store.getBucket(ctx.bucket)
    if (!bucket.cors) {
      throw new S3Error('NoSuchCORSConfiguration', 404, 'The CORS configuration does not exist', {
        BucketName: ctx.bucket,
      })
    }
    send(ctx, 200, corsXml(bucket.cors))
  }

  async function putBucketLifecycle(ctx: Context) {
    store.getBucket(ctx.bucket)
    const rules = parseLifecycleXml((await readSmallBody(ctx, MAX_XML_BODY)).toString('utf8'))
    await lifecycle.set(ctx.bucket, rules)
    send(ctx, 200)
  }

  async function getBucketLifecycle(ctx: Context) {
    await discardBody(ctx)
    store.getBucket(ctx.bucket)
    const rules = lifecycle.get(ctx.bucket)
    if (!rules) throw noSuchLifecycleConfiguration(ctx.bucket)
    send(ctx, 200, lifecycleXml(rules))
  }

  async function deleteBucketLifecycle(ctx: Context) {
    await discardBody(ctx)
    store.getBucket(ctx.bucket)
    await lifecycle.set(ctx.bucket, undefined)
    send(ctx, 204)
  }

  async function deleteBucketCors(ctx: Context) {
    await discardBody(ctx)
    store.getBucket(ctx.bucket)
    await store.setCors(ctx.bucket, undefined)
    send(ctx, 204)
  }

  function maxKeysParam(ctx: Context, name: string, limit: number): number {
    const raw = queryParam(ctx, name)
    if (raw === undefined) return limit
    if (!/^\d+$/.test(raw))
      throw invalidArgument(`Provided ${name} not an integer or within integer range`, name, raw)
    return Math.min(Number(raw), limit)
  }

  function listEncoder(ctx: Context): (text: string) => string {
    const encodingType = queryParam(ctx, 'encoding-type')
    if (encodingType === undefined) return (text) => text
    if (encodingType !== 'url')
      throw invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', encodingType)
    return (text) => text.split('/').map(encodeRfc3986).join('/')
  }

  function contentsXml(items: ObjectMeta[], encode: (text: string) => string, withOwner: boolean): string {
    return items
      .map(
        (m) =>
          `<Contents>${el('Key', encode(m.key))}${el('LastModified', m.lastModified)}${el('ETag', m.etag)}${el('Size', m.size)}${
            withOwner ? ownerXml('Owner') : ''
          }${el('StorageClass', 'STANDARD')}</Contents>`,
      )
      .join('')
  }

  const commonPrefixesXml = (prefixes: string[], encode: (text: string) => string) =>
    prefixes.map((p) => `<CommonPrefixes>${el('Prefix', encode(p))}</CommonPrefixes>`).join('')

  async function listObjectsV2(ctx: Context) {
    await discardBody(ctx)
    const bucket = store.getBucket(ctx.bucket)
    const encode = listEncoder(ctx)
    const prefix = queryParam(ctx, 'prefix') ?? ''
    const delimiter = queryParam(ctx, 'delimiter') || undefined
    const maxKeys = maxKeysParam(ctx, 'max-keys', MAX_KEYS)
    const startAfter = queryParam(ctx, 'start-after')
    const token = queryParam(ctx, 'continuation-token')
    let after = startAfter ?? ''
    let skipPrefix: string | undefined
    if (token !== undefined) {
      try {
        const decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
          a: unknown
          s?: unknown
        }
        if (typeof decoded.a !== 'string' || (decoded.s !== undefined && typeof decoded.s !== 'string'))
          throw 0
        after = decoded.a
        skipPrefix = decoded.s as string | undefined
      } catch {
        throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', token)
      }
    }
    const page = listObjects(store.sortedKeys(bucket), bucket.objects, {
      prefix,
      delimiter,
      after,
      skipPrefix,
      maxKeys,
    })
    const next =
      page.isTruncated && page.next
        ? Buffer.from(JSON.stringify({ a: page.next.after, s: page.next.skipPrefix }), 'utf8').toString(
            'base64url',
          )
        : undefined
    sendXml(
      ctx,
      'ListBucketResult',
      `${el('Name', bucket.name)}${el('Prefix', encode(prefix))}${el('Delimiter', delimiter && encode(delimiter))}${el('MaxKeys', maxKeys)}${el(
        'EncodingType',
        queryParam(ctx, 'encoding-type'),
      )}${el('KeyCount', page.contents.length + page.commonPrefixes.length)}${el('IsTruncated', page.isTruncated)}${el(
        'ContinuationToken',
        token,
      )}${el('NextContinuationToken', next)}${el('StartAfter', startAfter && encode(startAfter))}${contentsXml(
        page.contents,
        encode,
        queryParam(ctx, 'fetch-owner') === 'true',
      )}${commonPrefixesXml(page.commonPrefixes, encode)}`,
    )
  }

  async function listObjectsV1(ctx: Context) {
    await discardBody(ctx)
    const bucket = store.getBucket(ctx.bucket)
    const encode = listEncoder(ctx)
    const prefix = queryParam(ctx, 'prefix') ?? ''
    const delimiter = queryParam(ctx, 'delimiter') || undefined
    const maxKeys = maxKeysParam(ctx, 'max-keys', MAX_KEYS)
    const marker = queryParam(ctx, 'marker') ?? ''
    // A marker that is a common prefix (as NextMarker returns) resumes after everything under it.
    const skipPrefix =
      delimiter && marker.endsWith(delimiter) && marker.startsWith(prefix) ? marker : undefined
    const page = listObjects(store.sortedKeys(bucket), bucket.objects, {
      prefix,
      delimiter,
      after: marker,
      skipPrefix,
      maxKeys,
    })
    const nextMarker =
      page.isTruncated && delimiter && page.next ? (page.next.skipPrefix ?? page.next.after) : undefined
    sendXml(
      ctx,
      'ListBucketResult',
      `${el('Name', bucket.name)}${el('Prefix', encode(prefix))}${el('Marker', encode(marker))}${el('NextMarker', nextMarker && encode(nextMarker))}${el(
        'MaxKeys',
        maxKeys,
      )}${el('Delimiter', delimiter && encode(delimiter))}${el('EncodingType', queryParam(ctx, 'encoding-type'))}${el(
        'IsTruncated',
        page.isTruncated,
      )}${contentsXml(page.contents, encode, true)}${commonPrefixesXml(page.commonPrefixes, encode)}`,
    )
  }

  async function deleteObjects(ctx: Context) {
    store.getBucket(ctx.bucket)
    assertContentMd5(quirks, ctx.req)
    const root = parseXml((await readSmallBody(ctx, MAX_XML_BODY)).toString('utf8'))
    if (root.name !== 'Delete') throw malformedXml()
    const objects = childrenNamed(root, 'Object')
    if (objects.length === 0 || objects.length > MAX_KEYS) throw malformedXml()
    const quiet = childText(root, 'Quiet')?.trim() === 'true'
    const results: string[] = []
    for (const object of objects) {
      const key = childText(object, 'Key')
      if (key === undefined) throw malformedXml()
      try {
        await store.deleteObject(ctx.bucket, key)
        if (!quiet) results.push(`<Deleted>${el('Key', key)}</Deleted>`)
      } catch (error) {
        const e =
          error instanceof S3Error
            ? error
            : new S3Error('InternalError', 500, 'We encountered an internal error.')
        if (!(error instanceof S3Error)) console.error('[local-s3] delete failed:', error)
        results.push(`<Error>${el('Key', key)}${el('Code', e.code)}${el('Message', e.message)}</Error>`)
      }
    }
    sendXml(ctx, 'DeleteResult', results.join(''))
  }

  async function listMultipartUploads(ctx: Context) {
    await discardBody(ctx)
    store.getBucket(ctx.bucket)
    const encode = listEncoder(ctx)
    const prefix = queryParam(ctx, 'prefix') ?? ''
    const delimiter = queryParam(ctx, 'delimiter') || undefined
    const keyMarker = queryParam(ctx, 'key-marker') ?? ''
    const uploadIdMarker = queryParam(ctx, 'upload-id-marker') ?? ''
    const maxUploads = maxKeysParam(ctx, 'max-uploads', MAX_KEYS)
    const uploads = [...store.uploads.values()]
      .filter((u) => u.bucket === ctx.bucket && u.key.startsWith(prefix))
      .sort((a, b) => {
        const byKey = a.key === b.key ? 0 : Buffer.compare(Buffer.from(a.key), Buffer.from(b.key))
        return byKey !== 0 ? byKey : a.initiated < b.initiated ? -1 : a.initiated > b.initiated ? 1 : 0
      })
    const markerIndex = uploadIdMarker
      ? uploads.findIndex((u) => u.key === keyMarker && u.uploadId === uploadIdMarker)
      : -1
    const remaining = uploads.filter((u, i) =>
      markerIndex !== -1
        ? i > markerIndex
        : keyMarker === '' || Buffer.compare(Buffer.from(u.key), Buffer.from(keyMarker)) > 0,
    )
    const items: string[] = []
    const prefixes: string[] = []
    let count = 0
    let truncated = false
    let last: { key: string; uploadId: string } | undefined
    for (const u of remaining) {
      const cut = delimiter ? u.key.indexOf(delimiter, prefix.length) : -1
      if (cut !== -1 && delimiter) {
        const p = u.key.slice(0, cut + delimiter.length)
        if (prefixes.includes(p)) continue
        if (count === maxUploads) {
          truncated = true
          break
        }
        prefixes.push(p)
      } else {
        if (count === maxUploads) {
          truncated = true
          break
        }
        items.push(
          `<Upload>${el('Key', encode(u.key))}${el('UploadId', u.uploadId)}${ownerXml('Initiator')}${ownerXml('Owner')}${el(
            'StorageClass',
            'STANDARD',
          )}${el('Initiated', u.initiated)}</Upload>`,
        )
      }
      count++
      last = { key: u.key, uploadId: u.uploadId }
    }
    sendXml(
      ctx,
      'ListMultipartUploadsResult',
      `${el('Bucket', ctx.bucket)}${el('KeyMarker', encode(keyMarker))}${el('UploadIdMarker', uploadIdMarker)}${el(
        'NextKeyMarker',
        truncated && last ? encode(last.key) : undefined,
      )}${el('NextUploadIdMarker', truncated && last ? last.uploadId : undefined)}${el('Prefix', encode(prefix))}${el(
        'Delimiter',
        delimiter,
      )}${el('MaxUploads', maxUploads)}${el('IsTruncated', truncated)}${items.join('')}${commonPrefixesXml(prefixes, encode)}`,
    )
  }

  // ---- object operations ----

  /** Streams the verified body into a temp file; the caller commits it with a rename or deletes it. */
  function requireContentLength(ctx: Context) {
    if (ctx.payloadHash.startsWith('STREAMING-') ? false : header(ctx.req, 'content-length') === undefined) {
      throw new S3Error('MissingContentLength', 411, 'You must provide the Content-Length HTTP header.')
    }
  }

  async function receiveToTemp(ctx: Context): Promise<{ tmpFile: string; result: BodyResult }> {
    requireContentLength(ctx)
    const tmpFile = store.tmpPath()
    const result: BodyResult = { size: 0, md5: '' }
    try {
      await pipeline(
        verifiedBody(ctx, result, MAX_OBJECT_SIZE),
        createWriteStream(tmpFile, { highWaterMark: STREAM_HIGH_WATER_MARK }),
      )
    } catch (error) {
      await rm(tmpFile, { force: true })
      throw error
    }
    return { tmpFile, result }
  }

  async function putObject(ctx: Context) {
    if (header(ctx.req, 'x-amz-copy-source') !== undefined) {
      throw notImplemented('CopyObject is not implemented by this server.')
    }
    store.getBucket(ctx.bucket)
    const stored = storedHeadersFrom(ctx.req)
    assertMetadataSize(quirks, stored.metadata)
    const ifNoneMatch = ifNoneMatchOf(ctx.req)
    requireContentLength(ctx)
    if ((expectedBodyLength(ctx) ?? Number.POSITIVE_INFINITY) <= IN_MEMORY_BODY_MAX) {
      // Small bodies (most objects) skip the temp file: kept in memory, then written once where they belong.
      const result: BodyResult = { size: 0, md5: '' }
      const chunks: Buffer[] = []
      for await (const chunk of verifiedBody(ctx, result, IN_MEMORY_BODY_MAX)) chunks.push(chunk)
      const meta = await store.commitObject(
        ctx.bucket,
        ctx.key,
        [{ chunks, size: result.size }],
        {
          ...stored,
          size: result.size,
          etag: `"${result.md5}"`,
        },
        ifNoneMatch,
      )
      send(ctx, 200, undefined, { ETag: meta.etag })
      return
    }
    const { tmpFile, result } = await receiveToTemp(ctx)
    let meta: ObjectMeta
    try {
      meta = await store.commitObject(
        ctx.bucket,
        ctx.key,
        [{ path: tmpFile, size: result.size, keep: false }],
        {
          ...stored,
          size: result.size,
          etag: `"${result.md5}"`,
        },
        ifNoneMatch,
      )
    } catch (error) {
      await rm(tmpFile, { force: true })
      throw error
    }
    send(ctx, 200, undefined, { ETag: meta.etag })
  }

  async function getObject(ctx: Context) {
    await discardBody(ctx)
    const { req, res } = ctx
    const isHead = req.method === 'HEAD'
    const meta = store.getObject(ctx.bucket, ctx.key)

    const notModified = checkConditions(req, meta)
    if (notModified) {
      for (const [name, value] of Object.entries({
        ETag: meta.etag,
        'Last-Modified': httpDate(meta.lastModified),
      })) {
        res.setHeader(name, value)
      }
      res.writeHead(304)
      res.end()
      return
    }

    const range = parseRange(header(req, 'range'), meta.size)
    const headers: Record<string, string> = {
      'Content-Type': meta.contentType,
      ETag: meta.etag,
      'Last-Modified': httpDate(meta.lastModified),
      'Accept-Ranges': 'bytes',
    }
    for (const [name, value] of Object.entries(meta.headers)) headers[name] = value
    for (const [name, value] of Object.entries(meta.metadata)) headers[name] = value
    for (const [param, name] of Object.entries(RESPONSE_OVERRIDES)) {
      const value = queryParam(ctx, param)
      if (value !== undefined) {
        delete headers[name.toLowerCase()]
        headers[name] = value
      }
    }
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, headerSafe(value))
    const start = range?.start ?? 0
    const end = range?.end ?? meta.size - 1
    if (range) res.setHeader('Content-Range', `bytes ${start}-${end}/${meta.size}`)
    res.setHeader('Content-Length', end - start + 1)
    if (isHead || meta.size === 0) {
      res.writeHead(range ? 206 : 200)
      res.end()
      return
    }
    if (end - start + 1 <= SMALL_READ_MAX) {
      // Read before the status goes out, so a failed read is still an error answer.
      const body = store.readObjectSync(ctx.bucket, meta, start, end)
      res.writeHead(range ? 206 : 200)
      res.end(body)
      return
    }
    res.writeHead(range ? 206 : 200)
    // Pinned right after the lookup (no await in between): an overwrite meanwhile cannot delete these files.
    const release = store.pinObject(ctx.bucket, meta)
    try {
      await pipeline(store.readObject(ctx.bucket, meta, start, end), res)
    } catch {
      // The client went away mid-download; nothing left to answer.
    } finally {
      await release()
    }
  }

  async function deleteObject(ctx: Context) {
    await discardBody(ctx)
    // 204 whether or not the key existed, like S3.
    await store.deleteObject(ctx.bucket, ctx.key)
    send(ctx, 204)
  }

  async function createMultipartUpload(ctx: Context) {
    await discardBody(ctx)
    const stored = storedHeadersFrom(ctx.req)
    assertMetadataSize(quirks, stored.metadata)
    const upload = await store.createUpload(ctx.bucket, ctx.key, stored)
    sendXml(
      ctx,
      'InitiateMultipartUploadResult',
      `${el('Bucket', ctx.bucket)}${el('Key', ctx.key)}${el('UploadId', upload.uploadId)}`,
    )
  }

  function uploadIdParam(ctx: Context): string {
    return queryParam(ctx, 'uploadId') ?? ''
  }

  async function uploadPart(ctx: Context) {
    if (header(ctx.req, 'x-amz-copy-source') !== undefined) {
      throw notImplemented('UploadPartCopy is not implemented by this server.')
    }
    const raw = queryParam(ctx, 'partNumber') ?? ''
    const partNumber = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN
    if (!(partNumber >= 1 && partNumber <= MAX_PARTS)) {
      throw invalidArgument(
        'Part number must be an integer between 1 and 10000, inclusive',
        'partNumber',
        raw,
      )
    }
    const upload = store.getUpload(ctx.bucket, ctx.key, uploadIdParam(ctx))
    const { tmpFile, result } = await receiveToTemp(ctx)
    try {
      await store.commitPart(upload, partNumber, tmpFile, result.size, result.md5)
    } catch (error) {
      await rm(tmpFile, { force: true })
      throw error
    }
    send(ctx, 200, undefined, { ETag: `"${result.md5}"` })
  }

  async function completeMultipartUpload(ctx: Context) {
    const upload = store.getUpload(ctx.bucket, ctx.key, uploadIdParam(ctx))
    const ifNoneMatch = ifNoneMatchOf(ctx.req)
    const root = parseXml((await readSmallBody(ctx, MAX_XML_BODY)).toString('utf8'))
    if (root.name !== 'CompleteMultipartUpload') throw malformedXml()
    const requested = childrenNamed(root, 'Part').map((part) => {
      const number = childText(part, 'PartNumber')?.trim() ?? ''
      const etag = childText(part, 'ETag')
      if (!/^\d{1,5}$/.test(number) || etag === undefined) throw malformedXml()
      return { partNumber: Number(number), etag }
    })
    const meta = await store.completeUpload(upload, requested, ifNoneMatch)
    const location = `${endpoint}/${encodeRfc3986(ctx.bucket)}/${ctx.key.split('/').map(encodeRfc3986).join('/')}`
    sendXml(
      ctx,
      'CompleteMultipartUploadResult',
      `${el('Location', location)}${el('Bucket', ctx.bucket)}${el('Key', ctx.key)}${el('ETag', meta.etag)}`,
    )
  }

  async function listParts(ctx: Context) {
    await discardBody(ctx)
    const uploadId = uploadIdParam(ctx)
    const upload = store.getUpload(ctx.bucket, ctx.key, uploadId)
    const maxParts = maxKeysParam(ctx, 'max-parts', MAX_KEYS)
    const markerRaw = queryParam(ctx, 'part-number-marker') ?? '0'
    if (!/^\d+$/.test(markerRaw)) {
      throw invalidArgument('Provided part-number-marker not an integer', 'part-number-marker', markerRaw)
    }
    const marker = Number(markerRaw)
    const all = [...upload.parts.values()]
      .filter((p) => p.partNumber > marker)
      .sort((a, b) => a.partNumber - b.partNumber)
    const page = all.slice(0, maxParts)
    const truncated = all.length > page.length
    const lastPart = page[page.length - 1]
    sendXml(
      ctx,
      'ListPartsResult',
      `${el('Bucket', ctx.bucket)}${el('Key', ctx.key)}${el('UploadId', uploadId)}${ownerXml('Initiator')}${ownerXml(
        'Owner',
      )}${el('StorageClass', 'STANDARD')}${el('PartNumberMarker', marker)}${el(
        'NextPartNumberMarker',
        lastPart ? lastPart.partNumber : undefined,
      )}${el('MaxParts', maxParts)}${el('IsTruncated', truncated)}${page
        .map(
          (p) =>
            `<Part>${el('PartNumber', p.partNumber)}${el('LastModified', p.lastModified)}${el('ETag', `"${p.md5}"`)}${el(
              'Size',
              p.size,
            )}</Part>`,
        )
        .join('')}`,
    )
  }

  async function abortMultipartUpload(ctx: Context) {
    await discardBody(ctx)
    const upload = store.getUpload(ctx.bucket, ctx.key, uploadIdParam(ctx))
    await store.abortUpload(upload)
    send(ctx, 204)
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`

  let closing: Promise<void> | undefined
  return {
    endpoint,
    port,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()))
        server.closeAllConnections()
        await closed
        await Promise.allSettled([...inFlight])
      })()
      return closing
    },
  }
}

/** GET/HEAD preconditions, RFC 7232 order. Returns true for 304 Not Modified, throws 412. */
function checkConditions(req: IncomingMessage, meta: ObjectMeta): boolean {
  const ifMatch = header(req, 'if-match')
  const ifNoneMatch = header(req, 'if-none-match')
  const ifModifiedSince = header(req, 'if-modified-since')
  const ifUnmodifiedSince = header(req, 'if-unmodified-since')
  const etagIn = (list: string) =>
    list.split(',').some((t) => {
      const tag = t.trim().replace(/^W\//, '')
      return tag === '*' || tag === meta.etag || `"${tag}"` === meta.etag
    })
  // HTTP dates have one-second resolution.
  const modified = Math.floor(Date.parse(meta.lastModified) / 1000) * 1000
  const failed = () =>
    new S3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold', {
      Condition: 'If-Match',
    })
  if (ifMatch !== undefined && !etagIn(ifMatch)) throw failed()
  if (ifMatch === undefined && ifUnmodifiedSince !== undefined) {
    const since = Date.parse(ifUnmodifiedSince)
    if (!Number.isNaN(since) && modified > since) throw failed()
  }
  if (ifNoneMatch !== undefined) return etagIn(ifNoneMatch)
  if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince)
    if (!Number.isNaN(since) && modified <= since) return true
  }
  return false
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n`; anything else (incl. multiple ranges) means the whole object. */
function parseRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  if (value === undefined) return undefined
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim())
  if (!m || (m[1] === '' && m[2] === '')) return undefined
  const unsatisfiable = () =>
    new S3Error(
      'InvalidRange',
      416,
      'The requested range is not satisfiable',
      { RangeRequested: value, ActualObjectSize: String(size) },
      {
        'Content-Range': `bytes */${size}`,
      },
    )
  if (m[1] === '') {
    const suffix = Number(m[2])
    if (suffix === 0 || size === 0) throw unsatisfiable()
    return { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(m[1])
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
  if (m[2] !== '' && Number(m[2]) < start) return undefined
  if (start >= size) throw unsatisfiable()
  return { start, end }
}
