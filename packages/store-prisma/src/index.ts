export type { PrismaRawClient } from './prisma-limits'
export { prismaRateLimiter } from './prisma-limits'
export type { PrismaClientWithUpkit, PrismaTransactionOf } from './prisma-upload-store'
export { prismaUploadStore } from './prisma-upload-store'
