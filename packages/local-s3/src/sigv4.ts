import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { accessDenied, S3Error } from './errors'

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD'
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER'
const ALGORITHM = 'AWS4-HMAC-SHA256'
/** S3's limits: presigned URLs live at most 7 days; header-signed requests may be 15 minutes off. */
const MAX_EXPIRES_SECONDS = 604_800
const MAX_SKEW_MS = 15 * 60 * 1000

export interface Credentials {
  accessKeyId: string
  secretAccessKey: string
  region: string
}

export interface AuthResult {
  kind: 'header' | 'query'
  /** What the client promised about the body: a hex sha256, UNSIGNED-PAYLOAD or a STREAMING-* mode. */
  payloadHash: string
}

export interface RawQueryParam {
  name: string
  value: string
}

/** RFC 3986 encoding as SigV4 wants it: encodeURIComponent leaves `!'()*` alone, AWS does not. */
export function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/** Splits a raw query string; `+` stays a literal plus, as S3 reads it. */
export function parseRawQuery(rawQuery: string): RawQueryParam[] {
  if (rawQuery === '') return []
  return rawQuery
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=')
      return eq === -1
        ? { name: safeDecode(part), value: '' }
        : { name: safeDecode(part.slice(0, eq)), value: safeDecode(part.slice(eq + 1)) }
    })
}

function canonicalQuery(params: RawQueryParam[]): string {
  return params
    .filter((p) => p.name !== 'X-Amz-Signature')
    .map((p) => [encodeRfc3986(p.name), encodeRfc3986(p.value)] as const)
    .sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([n, v]) => `${n}=${v}`)
    .join('&')
}

/**
 * The URIs a client may have signed for this path. SDKs sign the path exactly as they send it (S3 never
 * double-encodes), so the raw path comes first; a client that sent e.g. a literal `(` but signed `%28`
 * is covered by the re-encoded form, as S3 itself normalises the path.
 */
function canonicalUriCandidates(rawPath: string): string[] {
  const reencoded = rawPath
    .split('/')
    .map((segment) => encodeRfc3986(safeDecode(segment)))
    .join('/')
  return reencoded === rawPath ? [rawPath] : [rawPath, reencoded]
}

function canonicalHeaders(req: IncomingMessage, signedHeaders: string[]): string {
  const values = new Map<string, string[]>()
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] as string).toLowerCase()
    const list = values.get(name)
    const value = (req.rawHeaders[i + 1] as string).trim().replace(/\s+/g, ' ')
    if (list) list.push(value)
    else values.set(name, [value])
  }
  return signedHeaders.map((name) => `${name}:${(values.get(name) ?? []).join(',')}\n`).join('')
}

const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex')
const hmac = (key: Buffer | string, text: string) => createHmac('sha256', key).update(text, 'utf8').digest()

const signingKeys = new Map<string, Buffer>()
function signingKey(secret: string, date: string, region: string): Buffer {
  const cacheKey = `${secret}\n${date}\n${region}`
  let key = signingKeys.get(cacheKey)
  if (!key) {
    key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request')
    if (signingKeys.size > 64) signingKeys.clear()
    signingKeys.set(cacheKey, key)
  }
  return key
}

/** `20240101T000000Z` → epoch ms, or NaN. */
function parseAmzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)
  if (!m) return Number.NaN
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number]
  return Date.UTC(y, mo - 1, d, h, mi, s)
}

interface Parsed {
  accessKeyId: string
  scopeDate: string
  scopeRegion: string
  scopeService: string
  scopeTerminator: string
  signedHeaders: string[]
  signature: string
  amzDate: string
}

function parseCredential(credential: string, fail: (message: string) => S3Error) {
  // The access key itself never contains '/', the scope is always the last four parts.
  const parts = credential.split('/')
  if (parts.length < 5) throw fail(`Error parsing the Credential parameter: "${credential}"`)
  const [scopeTerminator, scopeService, scopeRegion, scopeDate] = parts.splice(-4).reverse() as [
    string,
    string,
    string,
    string,
  ]
  return { accessKeyId: parts.join('/'), scopeDate, scopeRegion, scopeService, scopeTerminator }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value.join(',') : value
}

/**
 * Verifies a SigV4 request (Authorization header or presigned query) the way S3 does, throwing the
 * S3 error S3 would answer with. Every request must be signed: this server holds a private bucket.
 */
export function verifySignature(
  req: IncomingMessage,
  rawPath: string,
  query: RawQueryParam[],
  credentials: Credentials,
  now = Date.now(),
): AuthResult {
  const authorization = headerValue(req, 'authorization')
  const queryValue = (name: string) => query.find((p) => p.name === name)?.value
  const algorithmParam = queryValue('X-Amz-Algorithm')

  if (authorization !== undefined && algorithmParam !== undefined) {
    throw new S3Error(
      'InvalidArgument',
      400,
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified',
    )
  }

  let parsed: Parsed
  let payloadHash: string
  let kind: AuthResult['kind']

  if (authorization !== undefined) {
    kind = 'header'
    const malformed = (message: string) => new S3Error('AuthorizationHeaderMalformed', 400, message)
    if (!authorization.startsWith(`${ALGORITHM} `)) {
      throw new S3Error(
        'InvalidArgument',
        400,
        `Unsupported Authorization Type; only ${ALGORITHM} is supported`,
      )
    }
    const fields = new Map<string, string>()
    for (const part of authorization.slice(ALGORITHM.length + 1).split(',')) {
      const eq = part.indexOf('=')
      if (eq !== -1) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
    }
    const credential = fields.get('Credential')
    const signedHeaders = fields.get('SignedHeaders')
    const signature = fields.get('Signature')
    if (!credential || !signedHeaders || !signature) {
      throw malformed(
        'The authorization header is malformed; it must contain Credential, SignedHeaders and Signature.',
      )
    }
    const amzDate = headerValue(req, 'x-amz-date')
    if (amzDate === undefined) {
      throw accessDenied('AWS authentication requires a valid Date or x-amz-date header')
    }
    const contentSha = headerValue(req, 'x-amz-content-sha256')
    if (contentSha === undefined) {
      throw new S3Error(
        'InvalidRequest',
        400,
        'Missing required header for this request: x-amz-content-sha256',
      )
    }
    if (
      !/^[0-9a-f]{64}$/.test(contentSha) &&
      contentSha !== UNSIGNED_PAYLOAD &&
      !contentSha.startsWith('STREAMING-')
    ) {
      throw new S3Error(
        'InvalidArgument',
        400,
        'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-* or a valid sha256 value.',
        { ArgumentName: 'x-amz-content-sha256', ArgumentValue: contentSha },
      )
    }
    payloadHash = contentSha
    parsed = {
      ...parseCredential(credential, malformed),
      signedHeaders: signedHeaders.split(';'),
      signature,
      amzDate,
    }
    const date = parseAmzDate(amzDate)
    if (Number.isNaN(date))
      throw accessDenied('AWS authentication requires a valid Date or x-amz-date header')
    if (parsed.accessKeyId !== credentials.accessKeyId) throw invalidAccessKey(parsed.accessKeyId)
    checkScope(parsed, credentials.region, malformed)
    if (Math.abs(now - date) > MAX_SKEW_MS) {
      throw new S3Error(
        'RequestTimeTooSkewed',
        403,
        'The difference between the request time and the current time is too large.',
        {
          RequestTime: amzDate,
          ServerTime: new Date(now).toISOString(),
          MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
        },
      )
    }
  } else if (algorithmParam !== undefined) {
    kind = 'query'
    const malformed = (message: string) => new S3Error('AuthorizationQueryParametersError', 400, message)
    if (algorithmParam !== ALGORITHM) {
      throw malformed(`X-Amz-Algorithm only supports "${ALGORITHM}"`)
    }
    const credential = queryValue('X-Amz-Credential')
    const amzDate = queryValue('X-Amz-Date')
    const expires = queryValue('X-Amz-Expires')
    const signedHeaders = queryValue('X-Amz-SignedHeaders')
    const signature = queryValue('X-Amz-Signature')
    if (!credential || !amzDate || !expires || !signedHeaders || !signature) {
      throw malformed(
        'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
      )
    }
    const date = parseAmzDate(amzDate)
    if (Number.isNaN(date))
      throw malformed(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`)
    if (!/^\d+$/.test(expires)) throw malformed('X-Amz-Expires should be a number')
    const expiresSeconds = Number(expires)
    if (expiresSeconds > MAX_EXPIRES_SECONDS) {
      throw malformed('X-Amz-Expires must be less than a week (in seconds) that is 604800')
    }
    parsed = {
      ...parseCredential(credential, malformed),
      signedHeaders: signedHeaders.split(';'),
      signature,
      amzDate,
    }
    if (parsed.accessKeyId !== credentials.accessKeyId) throw invalidAccessKey(parsed.accessKeyId)
    checkScope(parsed, credentials.region, malformed)
    if (now > date + expiresSeconds * 1000) throw accessDenied('Request has expired')
    if (date - now > MAX_SKEW_MS) throw accessDenied('Request is not valid yet')
    // Presigned URLs carry no body hash; S3 only honours one that was itself signed into the query.
    payloadHash = queryValue('X-Amz-Content-Sha256') ?? UNSIGNED_PAYLOAD
    // Unsigned x-amz-* headers would let the URL holder add e.g. metadata the signer never allowed.
    const unsigned = Object.keys(req.headers).filter(
      (name) =>
        name.startsWith('x-amz-') &&
        !name.startsWith('x-amz-checksum-') &&
        name !== 'x-amz-content-sha256' &&
        !parsed.signedHeaders.includes(name),
    )
    if (unsigned.length > 0) {
      throw new S3Error(
        'AccessDenied',
        403,
        'There were headers present in the request which were not signed',
        {
          HeadersNotSigned: unsigned.join(', '),
        },
      )
    }
  } else {
    throw accessDenied()
  }

  if (!parsed.signedHeaders.includes('host')) {
    throw new S3Error(
      kind === 'header' ? 'AuthorizationHeaderMalformed' : 'AuthorizationQueryParametersError',
      400,
      'Host must be among the signed headers',
    )
  }
  if (parsed.signedHeaders.some((h) => h !== h.toLowerCase() || h === '')) {
    throw new S3Error('SignatureDoesNotMatch', 403, 'Signed header names must be lowercase')
  }

  const scope = `${parsed.scopeDate}/${parsed.scopeRegion}/s3/aws4_request`
  const key = signingKey(credentials.secretAccessKey, parsed.scopeDate, credentials.region)
  const headersBlock = canonicalHeaders(req, parsed.signedHeaders)
  const queryBlock = canonicalQuery(query)
  const provided = Buffer.from(parsed.signature, 'utf8')
  let firstStringToSign = ''
  let firstCanonicalRequest = ''
  for (const uri of canonicalUriCandidates(rawPath)) {
    const canonicalRequest = [
      req.method,
      uri,
      queryBlock,
      headersBlock,
      parsed.signedHeaders.join(';'),
      payloadHash,
    ].join('\n')
    const stringToSign = `${ALGORITHM}\n${parsed.amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`
    const expected = Buffer.from(createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex'), 'utf8')
    if (expected.length === provided.length && timingSafeEqual(expected, provided))
      return { kind, payloadHash }
    if (firstStringToSign === '') {
      firstStringToSign = stringToSign
      firstCanonicalRequest = canonicalRequest
    }
  }
  throw new S3Error(
    'SignatureDoesNotMatch',
    403,
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    {
      AWSAccessKeyId: parsed.accessKeyId,
      StringToSign: firstStringToSign,
      CanonicalRequest: firstCanonicalRequest,
    },
  )
}

function invalidAccessKey(accessKeyId: string) {
  return new S3Error(
    'InvalidAccessKeyId',
    403,
    'The AWS Access Key Id you provided does not exist in our records.',
    {
      AWSAccessKeyId: accessKeyId,
    },
  )
}

function checkScope(parsed: Parsed, region: string, malformed: (message: string) => S3Error) {
  if (parsed.scopeService !== 's3' || parsed.scopeTerminator !== 'aws4_request') {
    throw malformed(
      `Credential should be scoped to a valid service and terminated by aws4_request: "${parsed.scopeService}/${parsed.scopeTerminator}"`,
    )
  }
  if (parsed.scopeDate !== parsed.amzDate.slice(0, 8)) {
    throw malformed(
      `Invalid credential date "${parsed.scopeDate}". This date is not the same as X-Amz-Date: "${parsed.amzDate.slice(0, 8)}".`,
    )
  }
  if (parsed.scopeRegion !== region) {
    // S3 says 400 AuthorizationHeaderMalformed here; a refusal (403) is what callers of this server rely on.
    throw new S3Error(
      'SignatureDoesNotMatch',
      403,
      `The region '${parsed.scopeRegion}' is wrong; expecting '${region}'`,
      {
        Region: region,
      },
    )
  }
}
