import type { IncomingMessage } from 'node:http'
import { createUpkit } from '@upkit/server'
import type { BucketStorage } from '@upkit/storage'
import { prismaUploadStore } from '@upkit/store-prisma'
import type { PrismaClient } from './database'
import type { InvoicesContext } from './trpc'
import { createUploadRoutes } from './upload-routes'

/** upkit for the invoices app: its routes, its bucket, its database; the context of plain requests. */
export function createInvoicesUpkit(options: {
  prisma: PrismaClient
  storage: BucketStorage
  /** Where the database is, for the health report (`database.describe`). */
  describeDatabase: string
  context: (req: IncomingMessage) => Promise<InvoicesContext>
  maxReceiptsPerInvoice?: number
}) {
  return createUpkit({
    storage: options.storage,
    store: prismaUploadStore(options.prisma, { describe: options.describeDatabase }),
    routes: createUploadRoutes(options.prisma, options),
    context: options.context,
  })
}

export type InvoicesUpkit = ReturnType<typeof createInvoicesUpkit>
