import { describe, expect, it } from 'vitest'
import { runHealthChecks } from './health'

describe('runHealthChecks', () => {
  it('reports every failing check, without its internal error text, and is not ok when one fails', async () => {
    const report = await runHealthChecks({
      database: { describe: 'db', ping: async () => 1 },
      bucket: { describe: 'bucket', ping: () => Promise.reject(new Error('connect ECONNREFUSED')) },
    })
    expect(report).toEqual({
      ok: false,
      checks: {
        database: { ok: true, uses: 'db' },
        bucket: { ok: false, uses: 'bucket', error: 'unreachable' },
      },
    })
  })

  it('counts a hanging dependency as down after the timeout', async () => {
    const report = await runHealthChecks(
      { slow: { describe: 'slow', ping: () => new Promise(() => {}) } },
      50,
    )
    expect(report.ok).toBe(false)
    expect(report.checks.slow?.error).toBe('no answer in time')
  })
})
