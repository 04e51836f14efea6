import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createDatabase } from '@upkit/db'
import { startLocalS3 } from '@upkit/local-s3'
import { type BucketStorage, browserUploadCors, createS3BucketStorage, s3Presets } from '@upkit/storage'
import { inject } from 'vitest'
import { PrismaClient } from './generated/prisma/client'
import { createDatabaseUrl } from './postgres'

const migrationsDir = fileURLToPath(new URL('../prisma/migrations', import.meta.url))

export interface TestDatabase {
  readonly url: string
  /** The client of the test schema: upkit's own tables (`upkitUpload`, `upkitMigrationItem`) and nothing else. */
  readonly prisma: PrismaClient
  close(): Promise<void>
}

/** A fresh database in the run's PostgreSQL cluster (started by the global setup) with upkit's tables migrated. */
export async function startTestDatabase(): Promise<TestDatabase> {
  const url = await createDatabaseUrl(inject('postgresAdminUrl'))
  const database = await createDatabase({
    databaseUrl: url,
    migrationsDir,
    createClient: (adapter) => new PrismaClient({ adapter }),
  })
  return { url, prisma: database.prisma, close: () => database.close() }
}

export interface TestBucket {
  readonly endpoint: string
  readonly bucket: string
  readonly credentials: { accessKeyId: string; secretAccessKey: string }
  readonly storage: BucketStorage
  readonly dir: string
  close(): Promise<void>
}

/** A real local S3 server (SigV4-checking) in a temp folder on a free port, with one private bucket. */
export async function startTestBucket(
  options: {
    corsOrigins?: string[]
    /** `'ignore'`: like a provider without conditional writes (a replayed signed PUT overwrites). */
    conditionalWrites?: 'enforce' | 'ignore'
  } = {},
): Promise<TestBucket> {
  const dir = await mkdtemp(join(tmpdir(), 'upkit-s3-'))
  const credentials = { accessKeyId: 'test-key', secretAccessKey: randomBytes(24).toString('base64url') }
  const bucket = 'test-bucket'
  const server = await startLocalS3({
    dir,
    ...credentials,
    ...(options.conditionalWrites === undefined ? {} : { conditionalWrites: options.conditionalWrites }),
  })
  const storage = createS3BucketStorage(s3Presets.local({ endpoint: server.endpoint, bucket, credentials }))
  await storage.ensureBucket(options.corsOrigins ? { cors: browserUploadCors(options.corsOrigins) } : {})
  return {
    endpoint: server.endpoint,
    bucket,
    credentials,
    storage,
    dir,
    close: async () => {
      await server.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the run's throwaway PostgreSQL cluster (see global-setup.ts). */
    postgresAdminUrl: string
  }
}
