import { inspect } from 'node:util'
import type { S3Credentials } from './s3-bucket-storage'

/**
 * Returns the same credentials, but `console.log`, `util.inspect` and `JSON.stringify` print the secret
 * (and session token) as `[redacted]`, so logging a whole config never leaks them. The real values
 * stay ordinary enumerable properties because the SDK copies credential objects with spread.
 */
export function redactCredentials(credentials: S3Credentials): S3Credentials {
  const printable = {
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: '[redacted]',
    ...(credentials.sessionToken === undefined ? {} : { sessionToken: '[redacted]' }),
  }
  const safe = { ...credentials, toJSON: () => printable, [inspect.custom]: () => printable }
  return safe
}
