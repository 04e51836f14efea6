import { formatBytes } from '@upkit/core'
import type { MigrationReport } from './migrate-uploads'

/** The human-readable end-of-run report. */
export function formatReport(report: MigrationReport): string {
  const lines: string[] = []
  const seconds = report.durationMs / 1000
  if (report.dryRun) {
    lines.push(`Dry run of ${report.uploadsDir} (nothing was changed):`)
    lines.push(
      `  would copy ${report.planned.bucket} files into the bucket and store ${report.planned.inline} inline ` +
        `images (${formatBytes(report.planned.bytes)} in all), rewriting ${report.planned.files} legacy references`,
    )
  } else {
    const rate = seconds > 0 ? report.migratedBytes / seconds / 1e6 : 0
    lines.push(`Migrated ${report.uploadsDir} in ${seconds.toFixed(1)} s:`)
    lines.push(
      `  migrated:       ${report.migrated} references (${formatBytes(report.migratedBytes)}, ${rate.toFixed(1)} MB/s` +
        `${report.reusedObjects > 0 ? `; ${report.reusedObjects} objects already in the bucket from an interrupted run` : ''})`,
    )
  }
  lines.push(`  already done:   ${report.alreadyDone} references (migrated by an earlier run)`)
  lines.push(`  missing on disk: ${report.missing.length} references (left untouched)`)
  for (const missing of report.missing.slice(0, 20)) lines.push(`    ${missing.source}: ${missing.path}`)
  lines.push(`  orphans:        ${report.orphans.length} files no reference points to (left untouched)`)
  for (const orphan of report.orphans.slice(0, 20)) lines.push(`    ${orphan}`)
  lines.push(`  symbolic links: ${report.symlinks.length} skipped (never followed)`)
  if (!report.dryRun && report.deletedSources > 0)
    lines.push(`  deleted:        ${report.deletedSources} source files`)
  lines.push(`  failures:       ${report.failures.length}`)
  for (const failure of report.failures)
    lines.push(`    ${failure.source} (${failure.path}): ${failure.reason}`)
  const more = (list: unknown[]) => list.length > 20
  if (more(report.missing) || more(report.orphans)) lines.push('  (lists cut at 20; --json prints them all)')
  return `${lines.join('\n')}\n`
}
