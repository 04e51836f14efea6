export type { PrismaClientWithUpkit, PrismaTransactionOf } from './prisma-upload-store'
export { prismaUploadStore } from './prisma-upload-store'
