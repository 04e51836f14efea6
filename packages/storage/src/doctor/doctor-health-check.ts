import { createS3BucketStorage, type S3StorageConfig } from '../s3-bucket-storage'
import { runBucketDoctor } from './run-bucket-doctor'
import type { BucketDoctorOptions, DoctorReport } from './types'

/**
 * The bucket doctor as an operator-only health check: `createUpkit({ healthChecks: { bucketDoctor:
 * bucketDoctorHealthCheck(config, { origin }) } })` serves its report on `GET /healthz?doctor` to the callers
 * `healthDetails` admits (by default a probe from the machine itself), never to load balancers: it has no `ping`,
 * so the public health report is unchanged. `origin` may be a function for an app that learns it once listening.
 */
export function bucketDoctorHealthCheck(
  config: S3StorageConfig,
  options: Omit<BucketDoctorOptions, 'origin'> & { origin?: string | (() => string | undefined) } = {},
): { readonly describe: string; diagnose(): Promise<DoctorReport> } {
  const { origin, ...rest } = options
  return {
    describe: `upkit doctor for ${createS3BucketStorage(config).describe}`,
    diagnose: () =>
      runBucketDoctor(config, { ...rest, origin: typeof origin === 'function' ? origin() : origin }),
  }
}
