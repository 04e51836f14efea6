import type { IncomingMessage } from 'node:http'
import { createUpkit } from '@upkit/server'
import type { BucketStorage } from '@upkit/storage'
import { prismaUploadStore } from '@upkit/store-prisma'
import { demoPaths } from '../shared/paths'
import type { PrismaClient } from './database'
import type { DemoContext } from './trpc'
import { createUploadRoutes } from './upload-routes'

/** upkit for the demo: its routes, its bucket, its database, its paths; the context of plain requests. */
export function createDemoUpkit(options: {
  prisma: PrismaClient
  storage: BucketStorage
  describeDatabase: string
  context: (req: IncomingMessage) => Promise<DemoContext>
}) {
  return createUpkit({
    storage: options.storage,
    store: prismaUploadStore(options.prisma, { describe: options.describeDatabase }),
    routes: createUploadRoutes(options.prisma),
    paths: demoPaths,
    context: options.context,
  })
}

export type DemoUpkit = ReturnType<typeof createDemoUpkit>
