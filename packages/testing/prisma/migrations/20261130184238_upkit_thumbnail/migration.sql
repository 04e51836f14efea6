-- AlterTable
ALTER TABLE "upkit_uploads" ADD COLUMN     "thumbnail" BYTEA,
ADD COLUMN     "thumbnailType" TEXT;
