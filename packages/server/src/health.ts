export interface HealthCheck {
  /** What is checked, safe to show publicly: "postgres 127.0.0.1:5432/app", "pglite .data/db". No secrets. */
  readonly describe: string
  /**
   * Resolves when the dependency answers; rejects (or times out) otherwise. A check without `ping` is not in the
   * health report at all: it only has a `diagnose` for operators.
   */
  ping?(): Promise<unknown>
  /**
   * A deep check for operators (e.g. `bucketDoctorHealthCheck` from `@upkit/storage`), run on `GET <healthPath>?doctor`
   * for callers `healthDetails` admits, never for load balancers: it may write to the bucket and take seconds.
   */
  diagnose?(): Promise<{ readonly ok: boolean }>
}

export interface DiagnosisReport {
  readonly ok: boolean
  /** When the diagnoses ran (a cached report says so). */
  readonly at: string
  readonly checks: Record<string, { readonly ok: boolean } | { readonly ok: false; readonly error: string }>
}

class HealthTimeoutError extends Error {}

export interface HealthReport {
  readonly ok: boolean
  readonly checks: Record<string, { ok: boolean; uses: string; error?: string }>
}

/**
 * Pings every dependency in parallel. A check that takes longer than `timeoutMs` counts as down: a health
 * endpoint that hangs is worse for a load balancer than one that says 503.
 */
export async function runHealthChecks(
  checks: Record<string, HealthCheck>,
  timeoutMs = 3000,
): Promise<HealthReport> {
  const entries = await Promise.all(
    Object.entries(checks)
      .filter(([, check]) => check.ping !== undefined)
      .map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined
        try {
          await Promise.race([
            check.ping?.(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new HealthTimeoutError()), timeoutMs)
            }),
          ])
          return [name, { ok: true, uses: check.describe }] as const
        } catch (error) {
          // The endpoint is public: the full error (hostnames, bucket names) goes to the server log only.
          console.error(`health check ${name} failed:`, error)
          const timedOut = error instanceof HealthTimeoutError
          return [
            name,
            { ok: false, uses: check.describe, error: timedOut ? 'no answer in time' : 'unreachable' },
          ] as const
        } finally {
          clearTimeout(timer)
        }
      }),
  )
  return { ok: entries.every(([, result]) => result.ok), checks: Object.fromEntries(entries) }
}

/**
 * Runs every check's `diagnose` (in parallel), at most one run at a time and reusing a report for `cacheMs` (default
 * 60 s): an operator page refreshed in a loop, or several at once, must not turn into a stream of bucket writes.
 * Null when no check has a diagnosis.
 */
export function createDiagnosisRunner(
  checks: Record<string, HealthCheck>,
  options: { cacheMs?: number; now?: () => number } = {},
): (() => Promise<DiagnosisReport>) | null {
  const diagnosed = Object.entries(checks).flatMap(([name, check]) =>
    check.diagnose ? [[name, check.diagnose.bind(check)] as const] : [],
  )
  if (diagnosed.length === 0) return null
  const cacheMs = options.cacheMs ?? 60_000
  const now = options.now ?? Date.now
  let last: { at: number; report: Promise<DiagnosisReport> } | undefined
  return () => {
    if (last && now() - last.at < cacheMs) return last.report
    const report = Promise.all(
      diagnosed.map(async ([name, diagnose]) => {
        try {
          return [name, await diagnose()] as const
        } catch (error) {
          console.error(`diagnosis ${name} failed:`, error)
          return [
            name,
            { ok: false as const, error: error instanceof Error ? error.message : String(error) },
          ] as const
        }
      }),
    ).then((entries) => ({
      ok: entries.every(([, result]) => result.ok),
      at: new Date().toISOString(),
      checks: Object.fromEntries(entries),
    }))
    last = { at: now(), report }
    return report
  }
}
