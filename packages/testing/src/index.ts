export type {
  BucketRequestType,
  FaultCounts,
  FaultKind,
  FaultProxy,
  FaultProxyOptions,
  FaultRate,
  FaultScript,
  ProxiedRequest,
} from './fault-proxy'
export { FAULT_KINDS, formatFaultCounts, startFaultProxy } from './fault-proxy'
export type { TestPostgres } from './postgres'
export { createDatabaseUrl, startPostgres } from './postgres'
export type { TestBucket, TestDatabase } from './services'
export { startTestBucket, startTestDatabase } from './services'
