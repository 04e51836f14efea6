-- CreateEnum
CREATE TYPE "MigrationItemStatus" AS ENUM ('PLANNED', 'DONE', 'FAILED');

-- CreateTable
CREATE TABLE "TaskFile" (
    "id" UUID NOT NULL,
    "companyId" UUID NOT NULL,
    "taskId" UUID NOT NULL,
    "kind" "UploadKind" NOT NULL,
    "path" TEXT,
    "fileName" TEXT NOT NULL,
    "uploadId" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TaskFile_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "MigrationItem" (
    "source" TEXT NOT NULL,
    "sourcePath" TEXT NOT NULL,
    "status" "MigrationItemStatus" NOT NULL DEFAULT 'PLANNED',
    "uploadId" UUID,
    "key" TEXT,
    "size" BIGINT NOT NULL,
    "md5" TEXT,
    "sha256" TEXT,
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "MigrationItem_pkey" PRIMARY KEY ("source")
);

-- CreateIndex
CREATE UNIQUE INDEX "TaskFile_uploadId_key" ON "TaskFile"("uploadId");

-- CreateIndex
CREATE INDEX "TaskFile_taskId_idx" ON "TaskFile"("taskId");

-- CreateIndex
CREATE UNIQUE INDEX "MigrationItem_uploadId_key" ON "MigrationItem"("uploadId");

-- CreateIndex
CREATE UNIQUE INDEX "MigrationItem_key_key" ON "MigrationItem"("key");

-- CreateIndex
CREATE INDEX "MigrationItem_sourcePath_idx" ON "MigrationItem"("sourcePath");

-- AddForeignKey
ALTER TABLE "TaskFile" ADD CONSTRAINT "TaskFile_companyId_fkey" FOREIGN KEY ("companyId") REFERENCES "Company"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TaskFile" ADD CONSTRAINT "TaskFile_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "Task"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TaskFile" ADD CONSTRAINT "TaskFile_uploadId_fkey" FOREIGN KEY ("uploadId") REFERENCES "Upload"("id") ON DELETE SET NULL ON UPDATE CASCADE;
