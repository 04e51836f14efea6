import { formatBytes } from '@upkit/core'
import type { MigrationProgress } from './migrate-uploads'

export interface ProgressRenderer {
  update(progress: MigrationProgress): void
  /** Clears the bar (TTY) so the report starts on a clean line. */
  finish(): void
}

interface Output {
  write(text: string): unknown
  isTTY?: boolean
  columns?: number
}

/**
 * One redrawn line on a terminal; elsewhere (CI logs, files, pipes) a plain line every `everyFiles` files or
 * `everyMs`, whichever comes first, because carriage returns turn a log into one unreadable line.
 */
export function createProgressRenderer(
  out: Output,
  options: { everyFiles?: number; everyMs?: number; now?: () => number } = {},
): ProgressRenderer {
  const now = options.now ?? Date.now
  const everyFiles = options.everyFiles ?? 500
  const everyMs = options.everyMs ?? 5000
  const tty = out.isTTY === true
  let startedAt: number | null = null
  let lastDraw = 0
  let lastLoggedFiles = 0
  let lastPhase = ''
  let drawn = false

  const line = (p: MigrationProgress): string => {
    const elapsed = startedAt === null ? 0 : (now() - startedAt) / 1000
    const rate = elapsed > 0 ? p.bytesDone / elapsed : 0
    const left = rate > 0 ? Math.max(0, (p.bytesTotal - p.bytesDone) / rate) : Number.NaN
    const failed = p.failed > 0 ? `, ${p.failed} failed` : ''
    return (
      `${p.filesDone}/${p.filesTotal} files, ${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)}, ` +
      `${(rate / 1e6).toFixed(1)} MB/s, ${Number.isNaN(left) ? '--' : `${formatDuration(left)} left`}${failed}`
    )
  }

  return {
    update(p) {
      if (p.phase !== 'copying') {
        if (p.phase !== lastPhase && !tty && p.phase !== 'done') out.write(`${p.phase}...\n`)
        lastPhase = p.phase
        return
      }
      lastPhase = p.phase
      startedAt ??= now()
      const t = now()
      if (tty) {
        // Redrawing on every file would cost more than the copy for small files; 10 frames a second is smooth.
        if (t - lastDraw < 100 && p.filesDone !== p.filesTotal) return
        lastDraw = t
        const width = Math.max(10, Math.min(30, (out.columns ?? 80) - 70))
        const ratio =
          p.bytesTotal > 0 ? p.bytesDone / p.bytesTotal : p.filesTotal > 0 ? p.filesDone / p.filesTotal : 1
        const filled = Math.round(Math.min(1, ratio) * width)
        out.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${line(p)}`)
        drawn = true
        return
      }
      if (
        p.filesDone - lastLoggedFiles >= everyFiles ||
        t - lastDraw >= everyMs ||
        p.filesDone === p.filesTotal
      ) {
        if (p.filesDone === lastLoggedFiles && p.filesDone !== 0) return
        lastDraw = t
        lastLoggedFiles = p.filesDone
        out.write(`progress: ${line(p)}\n`)
      }
    },
    finish() {
      if (tty && drawn) out.write('\n')
    },
  }
}

function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`
}
