-- AlterTable
ALTER TABLE "Company" DROP COLUMN "logoKey";
