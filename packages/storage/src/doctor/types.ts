/** How one doctor check came out. `warn` works for upkit but with less protection, or could not be checked. */
export type DoctorStatus = 'ok' | 'warn' | 'fail'

export type DoctorCheckId =
  | 'credentials'
  | 'clock'
  | 'cors'
  | 'content-length'
  | 'multipart'
  | 'conditional-write'
  | 'batch-delete'
  | 'lifecycle'

export interface DoctorCheckResult {
  readonly id: DoctorCheckId
  /** A short human name ("CORS for http://localhost:3000"). */
  readonly title: string
  readonly status: DoctorStatus
  /** What was seen: the provider's error code and message, the measured skew, the rule found. */
  readonly detail: string
  /** What to change, for `warn` and `fail`; empty when the check is ok. */
  readonly fix: string
}

export interface DoctorReport {
  /** False when any check failed; warnings keep it true. */
  readonly ok: boolean
  /** Where the bucket is (no credentials), as `BucketStorage.describe`. */
  readonly bucket: string
  readonly checks: readonly DoctorCheckResult[]
}

export interface BucketDoctorOptions {
  /**
   * The origin browsers upload from (`https://app.example.com`), for the CORS check. Default none: that check is a
   * warning saying so, since only the app knows where its pages are served.
   */
  readonly origin?: string | undefined
  /**
   * How long each check may take before it fails, cleanup excluded. Default 30 s: the multipart check moves 5 MiB,
   * which takes seconds on a slow uplink, and a provider that hangs must still end in a report.
   */
  readonly timeoutMs?: number
  /** Where the app's objects live, for the lifecycle rule's prefix. Default `uploads/` (upkit's `keyPrefix`). */
  readonly keyPrefix?: string
  /** Default: only these checks run, in this order. Default every check. */
  readonly only?: readonly DoctorCheckId[]
}
