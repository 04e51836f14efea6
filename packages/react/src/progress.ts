import { formatBytes } from '@upkit/core'

export interface ProgressSample {
  /** Bytes sent so far. */
  readonly loaded: number
  /** Bytes in total. */
  readonly total: number
  /** When the transfer started, ms since the epoch. */
  readonly startedAt: number
  /** Now, ms since the epoch (a parameter so tests and renders agree). */
  readonly now: number
  /**
   * Bytes of `loaded` that were already there when the transfer (re)started at `startedAt`, e.g. the parts a
   * resumed upload found in the bucket. Default 0. They count towards the percentage but not the speed.
   */
  readonly resumedBytes?: number
}

export interface ProgressSummary {
  /** 0 to 100, whole numbers: what a progress bar and a screen reader announce. */
  readonly percent: number
  /** Average bytes per second since the start; null until there is a meaningful sample. */
  readonly bytesPerSecond: number | null
  /** Seconds left at the average speed; null when unknown. */
  readonly secondsLeft: number | null
  /** "12 MiB/s · 8 s left", or '' when unknown. */
  readonly label: string
}

/**
 * Speed is averaged since the start rather than over the last tick: per-tick rates jump with every part that
 * completes, and a jumpy "time left" is worse than a slightly stale one.
 */
export function summarizeProgress(sample: ProgressSample): ProgressSummary {
  const { loaded, total, startedAt, now } = sample
  const percent = total > 0 ? Math.min(100, Math.floor((loaded / total) * 100)) : 0
  const elapsedSeconds = (now - startedAt) / 1000
  const sent = loaded - (sample.resumedBytes ?? 0)
  // Below a quarter second (or before any byte of this transfer) a rate is noise.
  if (elapsedSeconds < 0.25 || sent <= 0)
    return { percent, bytesPerSecond: null, secondsLeft: null, label: '' }
  const bytesPerSecond = sent / elapsedSeconds
  const secondsLeft = Math.max(0, Math.ceil((total - loaded) / bytesPerSecond))
  return {
    percent,
    bytesPerSecond,
    secondsLeft,
    label: `${formatBytes(Math.round(bytesPerSecond))}/s · ${formatDuration(secondsLeft)} left`,
  }
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`
}
