export { bucketDoctorHealthCheck } from './doctor-health-check'
export { formatDoctorReport } from './format-doctor-report'
export { ensureAbortIncompleteMultipartRule } from './lifecycle-rule'
export { DOCTOR_CHECK_IDS, runBucketDoctor } from './run-bucket-doctor'
export type {
  BucketDoctorOptions,
  DoctorCheckId,
  DoctorCheckResult,
  DoctorReport,
  DoctorStatus,
} from './types'
