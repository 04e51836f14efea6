-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "upkit_upload_status" AS ENUM ('PENDING', 'CONFIRMED', 'FAILED');

-- CreateEnum
CREATE TYPE "upkit_migration_item_status" AS ENUM ('PLANNED', 'DONE', 'FAILED');

-- CreateTable
CREATE TABLE "upkit_uploads" (
    "id" UUID NOT NULL,
    "route" TEXT NOT NULL,
    "tenantId" TEXT NOT NULL,
    "ownerId" TEXT,
    "uploadedBy" TEXT,
    "status" "upkit_upload_status" NOT NULL DEFAULT 'PENDING',
    "key" TEXT NOT NULL,
    "fileName" TEXT NOT NULL,
    "mimeType" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "partSize" INTEGER,
    "multipartUploadId" TEXT,
    "input" JSONB NOT NULL,
    "metadata" JSONB NOT NULL,
    "failureReason" TEXT,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "confirmedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "upkit_uploads_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "upkit_migration_items" (
    "source" TEXT NOT NULL,
    "sourcePath" TEXT NOT NULL,
    "status" "upkit_migration_item_status" NOT NULL DEFAULT 'PLANNED',
    "uploadId" UUID,
    "key" TEXT,
    "size" BIGINT NOT NULL,
    "md5" TEXT,
    "sha256" TEXT,
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "upkit_migration_items_pkey" PRIMARY KEY ("source")
);

-- CreateIndex
CREATE UNIQUE INDEX "upkit_uploads_key_key" ON "upkit_uploads"("key");

-- CreateIndex
CREATE INDEX "upkit_uploads_tenantId_route_ownerId_status_idx" ON "upkit_uploads"("tenantId", "route", "ownerId", "status");

-- CreateIndex
CREATE INDEX "upkit_uploads_status_expiresAt_idx" ON "upkit_uploads"("status", "expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "upkit_migration_items_uploadId_key" ON "upkit_migration_items"("uploadId");

-- CreateIndex
CREATE UNIQUE INDEX "upkit_migration_items_key_key" ON "upkit_migration_items"("key");

-- CreateIndex
CREATE INDEX "upkit_migration_items_sourcePath_idx" ON "upkit_migration_items"("sourcePath");
