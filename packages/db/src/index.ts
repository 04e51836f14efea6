export { DataDirLockedError } from './data-dir-lock'
export type { Database, DatabaseOptions } from './database'
export { createDatabase } from './database'
export type { Comment, Company, MigrationItem, Task, TaskFile, Upload, User } from './generated/prisma/client'
export {
  MigrationItemStatus,
  Prisma,
  PrismaClient,
  UploadKind,
  UploadStatus,
} from './generated/prisma/client'
