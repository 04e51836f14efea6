import type { IncomingHttpHeaders } from 'node:http'
import { createHTTPHandler } from '@trpc/server/adapters/standalone'
import { createUpkit } from '@upkit/server'
import type { BucketStorage } from '@upkit/storage'
import { prismaUploadStore } from '@upkit/store-prisma'
import type { PrismaClient } from '../generated/prisma/client.js'
import { type AppContext, authedProcedure, router } from './trpc.mjs'
import { createUploadRoutes } from './upload-routes.mjs'

const contextOf = (headers: IncomingHttpHeaders): AppContext => {
  const tenant = headers['x-tenant']
  return { tenant: typeof tenant === 'string' && tenant !== '' ? tenant : null }
}

/** upkit composed onto the app's tRPC: what a user writes, from the README's "Add uploads to your app". */
export function createApp(options: {
  prisma: PrismaClient
  storage: BucketStorage
  describeDatabase: string
}) {
  const upkit = createUpkit({
    storage: options.storage,
    store: prismaUploadStore(options.prisma, { describe: options.describeDatabase }),
    routes: createUploadRoutes(),
    context: (req) => contextOf(req.headers),
  })
  const appRouter = router({ uploads: upkit.router(authedProcedure) })
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: '/trpc/',
    createContext: ({ req }) => contextOf(req.headers),
    onError: ({ error, path }) => {
      if (error.code === 'INTERNAL_SERVER_ERROR') console.error(`tRPC ${path ?? '?'} failed:`, error)
    },
  })
  return { upkit, appRouter, trpc }
}

export type AppRouter = ReturnType<typeof createApp>['appRouter']
