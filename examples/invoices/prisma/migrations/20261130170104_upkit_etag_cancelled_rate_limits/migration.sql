-- AlterEnum
ALTER TYPE "upkit_upload_status" ADD VALUE 'CANCELLED';

-- AlterTable
ALTER TABLE "upkit_uploads" ADD COLUMN     "etag" TEXT;

-- CreateTable
CREATE TABLE "upkit_rate_limits" (
    "key" TEXT NOT NULL,
    "windowStart" TIMESTAMP(3) NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "upkit_rate_limits_pkey" PRIMARY KEY ("key","windowStart")
);

-- CreateIndex
CREATE INDEX "upkit_rate_limits_windowStart_idx" ON "upkit_rate_limits"("windowStart");
