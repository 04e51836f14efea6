-- CreateTable
CREATE TABLE "upkit_sweep_state" (
    "name" TEXT NOT NULL,
    "leaseHolder" TEXT,
    "leaseUntil" TIMESTAMP(3),
    "orphanCursor" TEXT,
    "confirmCursorAt" TIMESTAMP(3),
    "confirmCursorId" UUID,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "upkit_sweep_state_pkey" PRIMARY KEY ("name")
);
