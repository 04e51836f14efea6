import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDatabase, type Database, type PrismaClient } from '@upkit/db'
import { startLocalS3 } from '@upkit/local-s3'
import { type BucketStorage, browserUploadCors, createS3BucketStorage, s3Presets } from '@upkit/storage'
import { inject } from 'vitest'
import { createDatabaseUrl } from './postgres'

export interface TestDatabase {
  readonly url: string
  readonly prisma: PrismaClient
  readonly database: Database
  close(): Promise<void>
}

/** A fresh, migrated database in the run's PostgreSQL cluster (started by the global setup). */
export async function startTestDatabase(): Promise<TestDatabase> {
  const url = await createDatabaseUrl(inject('postgresAdminUrl'))
  const database = await createDatabase({ databaseUrl: url })
  return { url, prisma: database.prisma, database, close: () => database.close() }
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
export async function startTestBucket(options: { corsOrigins?: string[] } = {}): Promise<TestBucket> {
  const dir = await mkdtemp(join(tmpdir(), 'upkit-s3-'))
  const credentials = { accessKeyId: 'test-key', secretAccessKey: randomBytes(24).toString('base64url') }
  const bucket = 'test-bucket'
  const server = await startLocalS3({ dir, ...credentials })
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

export interface TestTenant {
  readonly companyId: string
  readonly userId: string
  readonly taskId: string
}

/** One company with one user and one task: the smallest tenant a tenancy test needs. */
export async function seedTenant(prisma: PrismaClient, slug: string): Promise<TestTenant> {
  const company = await prisma.company.create({
    data: {
      name: slug,
      slug,
      users: { create: { email: `user@${slug}.test`, name: `${slug} user` } },
      tasks: { create: { title: `${slug} task` } },
    },
    select: { id: true, users: { select: { id: true } }, tasks: { select: { id: true } } },
  })
  const userId = company.users[0]?.id
  const taskId = company.tasks[0]?.id
  if (!userId || !taskId) throw new Error('seedTenant: the nested create returned no user or task')
  return { companyId: company.id, userId, taskId }
}
