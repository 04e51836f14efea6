export interface HealthCheck {
  /** What is checked, safe to show publicly: "postgres 127.0.0.1:5432/app", "pglite .data/db". No secrets. */
  readonly describe: string
  /** Resolves when the dependency answers; rejects (or times out) otherwise. */
  ping(): Promise<unknown>
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
    Object.entries(checks).map(async ([name, check]) => {
      let timer: NodeJS.Timeout | undefined
      try {
        await Promise.race([
          check.ping(),
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
