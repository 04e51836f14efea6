import { createHash } from 'node:crypto'
import type { S3Client } from '@aws-sdk/client-s3'

/**
 * Operations S3 requires a body checksum on, whose bodies are small XML documents. Until 3.729 the SDK sent
 * `Content-MD5` there; it now sends `x-amz-checksum-crc32` instead, which AWS accepts but older Ceph RGW, OpenStack
 * Swift's s3api and other S3-compatible stores do not know: they refuse the request (400 InvalidRequest, "Missing
 * required header for this request: Content-MD5"), so batch deletes (the sweeper, migrate's cleanup) fail there.
 */
const MD5_COMMANDS = new Set(['DeleteObjectsCommand', 'PutBucketCorsCommand'])

/**
 * Sends `Content-MD5` of the body on DeleteObjects and PutBucketCors in place of the SDK's CRC32 checksum headers:
 * every S3 API accepts Content-MD5 on these operations (it is what AWS documented as required for them), so one
 * request shape works everywhere. Runs after the SDK's checksum middleware (same build step, lower priority) and
 * before signing, so the header is signed.
 */
export function sendContentMd5(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown }
      if (!MD5_COMMANDS.has(context.commandName ?? '') || request.headers === undefined) return next(args)
      const body = request.body
      if (typeof body !== 'string' && !(body instanceof Uint8Array)) return next(args)
      const headers = request.headers
      for (const name of Object.keys(headers)) {
        const lower = name.toLowerCase()
        if (lower.startsWith('x-amz-checksum-') || lower === 'x-amz-sdk-checksum-algorithm')
          delete headers[name]
      }
      headers['content-md5'] = createHash('md5').update(body).digest('base64')
      return next(args)
    },
    { step: 'build', priority: 'low', name: 'upkitContentMd5' },
  )
}
