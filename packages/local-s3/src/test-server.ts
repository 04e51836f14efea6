import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { S3Client, type S3ClientConfig, S3ServiceException } from '@aws-sdk/client-s3'
import { type LocalS3Options, type LocalS3Server, startLocalS3 } from './server'

export const ACCESS_KEY_ID = 'local-test-key'
export const SECRET_ACCESS_KEY = 'local-test-secret-0123456789'
export const BUCKET = 'uploads'
export const ALLOWED_ORIGIN = 'http://localhost:5173'

export interface TestServer {
  server: LocalS3Server
  dir: string
  client: S3Client
  /** A client configured like our apps (path-style, checksums only when required); override what a test breaks. */
  makeClient(overrides?: Partial<S3ClientConfig>): S3Client
  restart(): Promise<void>
  stop(): Promise<void>
}

/**
 * A real server on a free port in a fresh temp folder, with one private bucket that allows ALLOWED_ORIGIN;
 * `overrides` change its options (e.g. `strict`).
 */
export async function startTestServer(overrides: Partial<LocalS3Options> = {}): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'local-s3-test-'))
  const options: LocalS3Options = {
    dir,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    buckets: [
      {
        name: BUCKET,
        cors: [
          {
            allowedOrigins: [ALLOWED_ORIGIN],
            allowedMethods: ['GET', 'PUT', 'POST', 'HEAD'],
            allowedHeaders: ['*'],
          },
        ],
      },
    ],
    ...overrides,
  }
  const clients: S3Client[] = []
  const state: TestServer = {
    server: await startLocalS3(options),
    dir,
    client: undefined as unknown as S3Client,
    makeClient(overrides = {}) {
      const client = new S3Client({
        endpoint: state.server.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        ...overrides,
      })
      clients.push(client)
      return client
    },
    async restart() {
      const port = state.server.port
      await state.server.close()
      state.server = await startLocalS3({ ...options, port })
    },
    async stop() {
      for (const client of clients) client.destroy()
      await state.server.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
  state.client = state.makeClient()
  return state
}

/** Reads an S3 XML error body's Code. */
export async function errorCode(response: Response): Promise<string | undefined> {
  return /<Code>([^<]*)<\/Code>/.exec(await response.text())?.[1]
}

/** The S3 error a request failed with (name and HTTP status); throws if it succeeded or failed otherwise. */
export async function s3ErrorOf(
  promise: Promise<unknown>,
): Promise<{ name: string; status: number | undefined }> {
  try {
    await promise
  } catch (error) {
    if (error instanceof S3ServiceException)
      return { name: error.name, status: error.$metadata.httpStatusCode }
    throw error
  }
  throw new Error('expected the request to fail')
}
