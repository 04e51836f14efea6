import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { notImplemented, S3Error } from './errors'
import { STREAMING_UNSIGNED_TRAILER } from './sigv4'

/** What the body turned out to be, filled in once it has been read completely and verified. */
export interface BodyResult {
  size: number
  /** Hex MD5 of the (decoded) body. */
  md5: string
}

export interface BodySource {
  req: IncomingMessage
  res: ServerResponse
  /** The signed promise about the body: hex sha256, UNSIGNED-PAYLOAD or STREAMING-*. */
  payloadHash: string
  /** Set once reading started, so error handling knows whether the body is still on the wire. */
  bodyStarted: boolean
  /** The client sent `Expect: 100-continue` and waits for our go before sending the body. */
  expectContinue: boolean
}

const incompleteBody = () =>
  new S3Error(
    'IncompleteBody',
    400,
    'You did not provide the number of bytes specified by the Content-Length HTTP header',
  )

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/**
 * The number of body bytes the client announced (after aws-chunked decoding), or undefined for a
 * chunked transfer without a length. Throws for framings we do not speak.
 */
export function expectedBodyLength(source: BodySource): number | undefined {
  const { req, payloadHash } = source
  if (payloadHash.startsWith('STREAMING-')) {
    if (payloadHash !== STREAMING_UNSIGNED_TRAILER) {
      throw notImplemented(
        `x-amz-content-sha256 ${payloadHash} (signed aws-chunked uploads) is not supported by this server; send a plain body or ${STREAMING_UNSIGNED_TRAILER}.`,
      )
    }
    const decoded = headerValue(req, 'x-amz-decoded-content-length')
    if (decoded === undefined || !/^\d+$/.test(decoded)) {
      throw new S3Error('MissingContentLength', 411, 'You must provide the Content-Length HTTP header.')
    }
    return Number(decoded)
  }
  const length = headerValue(req, 'content-length')
  if (length !== undefined) return Number(length)
  return req.headers['transfer-encoding'] === undefined ? 0 : undefined
}

/**
 * Decodes `Content-Encoding: aws-chunked` framing (`<hex size>[;ext]\r\n<data>\r\n … 0\r\n<trailers>\r\n`),
 * passing data through without copying. Trailing checksums are ignored, as are x-amz-checksum-* headers.
 */
async function* decodeAwsChunked(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let state: 'header' | 'data' | 'data-end' | 'trailer' | 'done' = 'header'
  let remaining = 0
  let carry: Buffer | undefined
  for await (const chunk of source) {
    const buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk
    carry = undefined
    let pos = 0
    while (pos < buf.length) {
      if (state === 'data') {
        const n = Math.min(remaining, buf.length - pos)
        yield buf.subarray(pos, pos + n)
        pos += n
        remaining -= n
        if (remaining === 0) state = 'data-end'
      } else if (state === 'data-end') {
        if (buf.length - pos < 2) {
          carry = buf.subarray(pos)
          break
        }
        if (buf[pos] !== 13 || buf[pos + 1] !== 10) throw invalidChunk()
        pos += 2
        state = 'header'
      } else if (state === 'done') {
        throw invalidChunk()
      } else {
        const lineEnd = buf.indexOf('\r\n', pos)
        if (lineEnd === -1) {
          if (buf.length - pos > 8192) throw invalidChunk()
          carry = buf.subarray(pos)
          break
        }
        const line = buf.toString('latin1', pos, lineEnd)
        pos = lineEnd + 2
        if (state === 'trailer') {
          if (line === '') state = 'done'
          continue
        }
        const sizeText = line.split(';')[0]?.trim() ?? ''
        if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText)) throw invalidChunk()
        remaining = Number.parseInt(sizeText, 16)
        state = remaining === 0 ? 'trailer' : 'data'
      }
    }
  }
  if (state !== 'done') throw incompleteBody()
}

const invalidChunk = () => new S3Error('InvalidRequest', 400, 'Malformed aws-chunked request body.')

/**
 * The request body as verified chunks: hashes (MD5 always, sha256 only when the client signed a hex digest)
 * are computed on the fly, and the end is only reached once length, x-amz-content-sha256 and Content-MD5
 * all match. A consumer that writes to a temp file therefore never commits a body that failed a check.
 */
export async function* verifiedBody(
  source: BodySource,
  result: BodyResult,
  maxSize: number,
): AsyncGenerator<Buffer> {
  const { req, payloadHash } = source
  const expected = expectedBodyLength(source)
  if (expected !== undefined && expected > maxSize) {
    throw new S3Error('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed size', {
      ProposedSize: String(expected),
      MaxSizeAllowed: String(maxSize),
    })
  }
  const contentMd5 = headerValue(req, 'content-md5')
  if (contentMd5 !== undefined && Buffer.from(contentMd5, 'base64').length !== 16) {
    throw new S3Error('InvalidDigest', 400, 'The Content-MD5 you specified was invalid.')
  }
  const md5 = createHash('md5')
  const sha256 = /^[0-9a-f]{64}$/.test(payloadHash) ? createHash('sha256') : undefined
  source.bodyStarted = true
  if (source.expectContinue) source.res.writeContinue()
  const chunks = payloadHash === STREAMING_UNSIGNED_TRAILER ? decodeAwsChunked(req) : req
  let size = 0
  for await (const chunk of chunks) {
    size += chunk.length
    if (size > maxSize) {
      throw new S3Error('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed size')
    }
    md5.update(chunk)
    sha256?.update(chunk)
    yield chunk
  }
  if (expected !== undefined && size !== expected) throw incompleteBody()
  const digest = md5.digest()
  if (sha256 && sha256.digest('hex') !== payloadHash) {
    throw new S3Error(
      'XAmzContentSHA256Mismatch',
      400,
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
      { ClientComputedContentSHA256: payloadHash },
    )
  }
  if (contentMd5 !== undefined && !digest.equals(Buffer.from(contentMd5, 'base64'))) {
    throw new S3Error('BadDigest', 400, 'The Content-MD5 you specified did not match what we received.')
  }
  result.size = size
  result.md5 = digest.toString('hex')
}

/** Reads a small body (XML documents) into memory, verified like any other body. */
export async function readSmallBody(source: BodySource, maxSize: number): Promise<Buffer> {
  const parts: Buffer[] = []
  const result: BodyResult = { size: 0, md5: '' }
  try {
    for await (const chunk of verifiedBody(source, result, maxSize)) parts.push(chunk)
  } catch (error) {
    if (error instanceof S3Error && error.code === 'EntityTooLarge') {
      throw new S3Error('MaxMessageLengthExceeded', 400, 'Your request was too big.')
    }
    throw error
  }
  return Buffer.concat(parts)
}
