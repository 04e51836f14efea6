// The client of the test schema (upkit's tables only), for tests that type their helpers with it.
export * from './generated/prisma/client'
