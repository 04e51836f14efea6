export const KiB = 1024
export const MiB = 1024 * KiB
export const GiB = 1024 * MiB

/** Human-readable size for messages, e.g. `formatBytes(10 * MiB)` is "10 MiB". */
export function formatBytes(bytes: number): string {
  if (bytes < KiB) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB'] as const
  let value = bytes / KiB
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  const rounded = value >= 100 || Number.isInteger(value) ? Math.round(value) : Math.round(value * 10) / 10
  return `${rounded} ${units[unit]}`
}
