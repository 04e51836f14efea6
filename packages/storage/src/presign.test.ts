import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { describe, expect, it } from 'vitest'
import { createQueryPresigner, type QueryPresignInput } from './presign'

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
}
const signingDate = new Date('2026-03-14T15:09:26.535Z')
const Bucket = 'upkit-bucket'
const Key = 'acme/2026/01/a b+(c)!*é.pdf'

/** The SDK's presigner as s3-bucket-storage.ts used it before: the reference the hand-signed URLs must equal. */
async function sdkUrl(
  client: S3Client,
  command: unknown,
  headers: Record<string, string> = {},
): Promise<string> {
  const names = Object.keys(headers)
  return getSignedUrl(client, command as never, {
    expiresIn: 900,
    signingDate,
    signableHeaders: new Set(names),
    unhoistableHeaders: new Set(names.filter((name) => name.startsWith('x-amz-'))),
  })
}

const setups = {
  'local-s3 (path style)': { region: 'us-east-1', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true },
  'AWS (virtual-hosted)': { region: 'eu-west-1', forcePathStyle: false },
  'R2 (https, path style)': {
    region: 'auto',
    endpoint: 'https://acct.r2.cloudflarestorage.com',
    forcePathStyle: true,
  },
} as const

describe.each(Object.entries(setups))(
  'hand-signed presigned URLs equal the SDK presigner: %s',
  (_, setup) => {
    for (const sessionToken of [undefined, 'session/token+value=']) {
      it(`for every operation upkit signs${sessionToken ? ', with a session token' : ''}`, async () => {
        const creds = sessionToken ? { ...credentials, sessionToken } : credentials
        // Configured as createS3BucketStorage configures its client: no default checksums on presigned URLs.
        const client = new S3Client({
          ...setup,
          credentials: creds,
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        })
        const probe = new URL(await getSignedUrl(client, new GetObjectCommand({ Bucket, Key: 'probe' })))
        const bucketUrl = new URL(`${probe.origin}${probe.pathname.slice(0, -'probe'.length)}`)
        const presign = createQueryPresigner({
          bucketUrl: async () => bucketUrl,
          region: setup.region,
          credentials: () => creds,
          now: () => signingDate,
        })
        const mine = (input: Omit<QueryPresignInput, 'expiresInSeconds' | 'key'>) =>
          presign({ key: Key, expiresInSeconds: 900, ...input })
        const meta = { 'x-amz-meta-owner': 'ada' }

        expect(
          await mine({
            method: 'PUT',
            query: { 'x-id': 'PutObject' },
            headers: { 'content-type': 'application/pdf', 'if-none-match': '*', ...meta },
            contentLength: 1234,
          }),
        ).toBe(
          await sdkUrl(
            client,
            new PutObjectCommand({
              Bucket,
              Key,
              ContentType: 'application/pdf',
              ContentLength: 1234,
              IfNoneMatch: '*',
              Metadata: { owner: 'ada' },
            }),
            { 'content-type': 'application/pdf', 'if-none-match': '*', ...meta },
          ),
        )
        expect(
          await mine({ method: 'POST', query: { uploads: '' }, headers: { 'content-type': 'image/png' } }),
        ).toBe(
          await sdkUrl(client, new CreateMultipartUploadCommand({ Bucket, Key, ContentType: 'image/png' }), {
            'content-type': 'image/png',
          }),
        )
        expect(
          await mine({
            method: 'PUT',
            query: { partNumber: '7', uploadId: 'up/load+id=', 'x-id': 'UploadPart' },
            contentLength: 8 * 1024 * 1024,
          }),
        ).toBe(
          await sdkUrl(
            client,
            new UploadPartCommand({
              Bucket,
              Key,
              UploadId: 'up/load+id=',
              PartNumber: 7,
              ContentLength: 8 * 1024 * 1024,
            }),
          ),
        )
        expect(
          await mine({ method: 'POST', query: { uploadId: 'u1' }, headers: { 'if-none-match': '*' } }),
        ).toBe(
          await sdkUrl(
            client,
            new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: 'u1', IfNoneMatch: '*' }),
            {
              'if-none-match': '*',
            },
          ),
        )
        expect(await mine({ method: 'GET', query: { uploadId: 'u1', 'x-id': 'ListParts' } })).toBe(
          await sdkUrl(client, new ListPartsCommand({ Bucket, Key, UploadId: 'u1' })),
        )
        expect(
          await mine({ method: 'DELETE', query: { uploadId: 'u1', 'x-id': 'AbortMultipartUpload' } }),
        ).toBe(await sdkUrl(client, new AbortMultipartUploadCommand({ Bucket, Key, UploadId: 'u1' })))
        expect(
          await mine({
            method: 'GET',
            query: {
              'x-id': 'GetObject',
              'response-cache-control': 'private, no-store',
              'response-content-disposition': `attachment; filename="a b.pdf"; filename*=UTF-8''a%20b.pdf`,
              'response-content-type': 'application/pdf',
            },
          }),
        ).toBe(
          await sdkUrl(
            client,
            new GetObjectCommand({
              Bucket,
              Key,
              ResponseCacheControl: 'private, no-store',
              ResponseContentDisposition: `attachment; filename="a b.pdf"; filename*=UTF-8''a%20b.pdf`,
              ResponseContentType: 'application/pdf',
            }),
          ),
        )
      })
    }
  },
)
