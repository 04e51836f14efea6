import type { DoctorReport, DoctorStatus } from './types'

const LABEL: Record<DoctorStatus, string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL' }

/**
 * The report as an aligned table (check, status, detail), each problem's fix on the line under it, and a verdict.
 * Plain text: it goes to terminals, CI logs and issue reports alike.
 */
export function formatDoctorReport(report: DoctorReport): string {
  const titleWidth = Math.max(5, ...report.checks.map((check) => check.title.length))
  const row = (title: string, status: string, detail: string) =>
    `${title.padEnd(titleWidth)}  ${status.padEnd(6)}  ${detail}`
  const lines = [
    `bucket: ${report.bucket}`,
    '',
    row('check', 'status', 'detail'),
    row('-'.repeat(titleWidth), '------', '------'),
  ]
  for (const check of report.checks) {
    lines.push(row(check.title, LABEL[check.status], check.detail))
    if (check.fix) lines.push(`${' '.repeat(titleWidth + 10)}fix: ${check.fix}`)
  }
  const count = (status: DoctorStatus) => report.checks.filter((check) => check.status === status).length
  lines.push(
    '',
    `${count('ok')} ok, ${count('warn')} warning(s), ${count('fail')} failed: ${report.ok ? 'the bucket is ready for upkit' : 'fix the failures above'}`,
  )
  return `${lines.join('\n')}\n`
}
