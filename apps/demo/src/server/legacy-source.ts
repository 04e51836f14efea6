// The demo's side of `upkit migrate` (`pnpm upkit migrate --uploads-dir ./uploads` from the repository root):
// which rows of the demo's schema point into a legacy ./uploads folder, how they are rewritten once their files
// moved, and the setup the CLI loads (the demo's database, bucket and upload routes, from its environment).
import { existsSync, readFileSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { startLocalS3 } from '@upkit/local-s3'
import {
  defineMigrationSetup,
  type LegacyReference,
  type LegacySource,
  prismaMigrationStore,
} from '@upkit/migrate'
import { type BucketStorage, createS3BucketStorage, s3Presets, storageConfigFromEnv } from '@upkit/storage'
import { openDemoDatabase, type Prisma, type PrismaClient, TaskFileKind } from './database'
import { createUploadRoutes } from './upload-routes'

/** The route each legacy task file kind becomes. */
const ROUTE_OF_KIND: Readonly<Record<TaskFileKind, 'taskAttachment' | 'commentImage'>> = {
  [TaskFileKind.ATTACHMENT]: 'taskAttachment',
  [TaskFileKind.COMMENT_IMAGE]: 'commentImage',
}
const TASK_FILE = 'task-file:'
const LOGO = 'logo:'

/**
 * TaskFile rows with a `path` become uploads of their task (path cleared, `uploadId` set); companies with a
 * `legacyLogoPath` get the file as their logo through the `companyLogo` route (path cleared).
 */
export function demoLegacySource(prisma: PrismaClient): LegacySource<Prisma.TransactionClient> {
  return {
    async read() {
      const [taskFiles, companies] = await Promise.all([
        prisma.taskFile.findMany({
          where: { path: { not: null } },
          select: {
            id: true,
            companyId: true,
            taskId: true,
            kind: true,
            path: true,
            fileName: true,
            createdAt: true,
          },
        }),
        prisma.company.findMany({
          where: { legacyLogoPath: { not: null } },
          select: { id: true, legacyLogoPath: true },
        }),
      ])
      return [
        ...taskFiles.map(
          (row): LegacyReference => ({
            source: `${TASK_FILE}${row.id}`,
            path: row.path as string,
            route: ROUTE_OF_KIND[row.kind],
            // What the routes' authorize returns for a member of the task's company.
            tenantId: row.companyId,
            ownerId: row.taskId,
            input: { taskId: row.taskId },
            fileName: row.fileName,
            createdAt: row.createdAt,
          }),
        ),
        ...companies.map(
          (row): LegacyReference => ({
            source: `${LOGO}${row.id}`,
            path: row.legacyLogoPath as string,
            route: 'companyLogo',
            tenantId: row.id,
            ownerId: row.id,
            input: {},
          }),
        ),
      ]
    },

    async writeBack(tx, migrated) {
      const ids: string[] = []
      const uploadIds: string[] = []
      const logoCompanies: string[] = []
      for (const item of migrated) {
        if (item.type === 'bucket') {
          ids.push(item.reference.source.slice(TASK_FILE.length))
          uploadIds.push(item.upload.id)
        } else logoCompanies.push(item.reference.source.slice(LOGO.length))
      }
      // One statement for the batch (up to a few hundred rows) rather than one update per row.
      if (ids.length > 0) {
        await tx.$executeRaw`
          UPDATE "TaskFile" AS t SET "path" = NULL, "uploadId" = u.upload_id
          FROM unnest(${ids}::uuid[], ${uploadIds}::uuid[]) AS u(id, upload_id)
          WHERE t.id = u.id`
      }
      // The logo itself was stored by the route's onStored; only the legacy path is left to clear.
      if (logoCompanies.length > 0) {
        await tx.company.updateMany({ where: { id: { in: logoCompanies } }, data: { legacyLogoPath: null } })
      }
    },
  }
}

// The demo's embedded bucket (apps/demo/src/server/app.ts): its name and access key id; the secret is on disk.
const LOCAL_BUCKET = 'upkit'
const LOCAL_ACCESS_KEY_ID = 'upkit-local'

/**
 * What `upkit migrate --source` loads: the demo's database and bucket as the demo itself opens them (DATABASE_URL
 * and S3_*, else PGlite and the embedded local S3 server in $UPKIT_DATA_DIR, default .data).
 */
export default defineMigrationSetup(async ({ env, cwd }) => {
  const cleanups: (() => Promise<void>)[] = []
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
  }
  try {
    const rawDataDir = env.UPKIT_DATA_DIR || '.data'
    const dataDir = isAbsolute(rawDataDir) ? rawDataDir : resolve(cwd, rawDataDir)
    const bucket = await openBucket(env, dataDir, cleanups)
    const database = await openDemoDatabase(
      env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : { dataDir: join(dataDir, 'db') },
    )
    cleanups.push(() => database.close())
    const prisma = database.prisma
    return {
      source: demoLegacySource(prisma),
      store: prismaMigrationStore(prisma, { describe: database.describe }),
      storage: bucket.storage,
      routes: createUploadRoutes(prisma),
      describe: { database: database.describe, bucket: bucket.describe },
      close,
    }
  } catch (error) {
    await close()
    throw error
  }
})

async function openBucket(
  env: NodeJS.ProcessEnv,
  dataDir: string,
  cleanups: (() => Promise<void>)[],
): Promise<{ storage: BucketStorage; describe: string }> {
  if (Object.keys(env).some((name) => name.startsWith('S3_') && env[name])) {
    const parsed = storageConfigFromEnv(env)
    if (!parsed.ok) throw new Error(`Invalid S3 configuration:\n  - ${parsed.errors.join('\n  - ')}`)
    return {
      storage: createS3BucketStorage(parsed.config),
      describe: `${parsed.config.endpoint ?? parsed.config.region}/${parsed.config.bucket}`,
    }
  }
  const secretFile = join(dataDir, 'local-s3-secret')
  if (!existsSync(secretFile)) {
    throw new Error(
      `No S3_* variables are set and ${secretFile} does not exist (the demo's embedded bucket has never run). ` +
        'Start the demo once, or set S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY.',
    )
  }
  const credentials = {
    accessKeyId: LOCAL_ACCESS_KEY_ID,
    secretAccessKey: readFileSync(secretFile, 'utf8').trim(),
  }
  const server = await startLocalS3({ dir: join(dataDir, 's3'), ...credentials })
  cleanups.push(() => server.close())
  const storage = createS3BucketStorage(
    s3Presets.local({ endpoint: server.endpoint, bucket: LOCAL_BUCKET, credentials }),
  )
  await storage.ensureBucket()
  return { storage, describe: `embedded local-s3 in ${join(dataDir, 's3')}/${LOCAL_BUCKET}` }
}
