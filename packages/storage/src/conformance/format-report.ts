import type { CheckResult } from './run-conformance'

const LABEL = { pass: 'pass', warn: 'WARN', fail: 'FAIL', skip: 'skip' } as const

/**
 * A plain-text table (check, result, note), then for every failure and warning what it means for upkit and the
 * fix: what someone pointing the suite at their bucket needs, without reading the source.
 */
export function formatReport(title: string, results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.check.id.length), 'check'.length)
  const lines = [title, '', `${'check'.padEnd(width)}  result  note`, `${'-'.repeat(width)}  ------  ----`]
  for (const result of results) {
    lines.push(
      `${result.check.id.padEnd(width)}  ${LABEL[result.status].padEnd(6)}  ${result.note ?? result.check.title}`,
    )
  }
  const notable = results.filter((r) => r.status === 'fail' || r.status === 'warn')
  for (const { check, status } of notable) {
    lines.push(
      '',
      `${LABEL[status]} ${check.id}: ${check.title}`,
      `  means: ${check.meaning}`,
      `  fix:   ${check.fix}`,
    )
  }
  const count = (status: CheckResult['status']) => results.filter((r) => r.status === status).length
  lines.push(
    '',
    `${count('pass')} passed, ${count('warn')} handled by upkit (warn), ${count('fail')} failed, ${count('skip')} skipped`,
  )
  return lines.join('\n')
}
