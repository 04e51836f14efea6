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

export const TiB = 1024 * GiB

/** A size as people write it in a route policy: `'5GB'`, `'10MB'`, `'512KB'`, `'1.5GB'`, or a byte count. */
export type SizeInput = number | `${number}${'B' | 'KB' | 'MB' | 'GB' | 'TB' | 'KiB' | 'MiB' | 'GiB' | 'TiB'}`

const UNITS: Record<string, number> = {
  B: 1,
  KB: KiB,
  KIB: KiB,
  MB: MiB,
  MIB: MiB,
  GB: GiB,
  GIB: GiB,
  TB: TiB,
  TIB: TiB,
}

/**
 * Bytes of a policy size. Units are binary (`'1MB'` is 1,048,576 bytes) as in uploadthing and better-upload, so a
 * limit written as `'10MB'` accepts a file the operating system shows as 10 MB. Throws a `TypeError` for anything
 * else: a policy is code, so a typo must fail at start-up, not let every file through.
 */
export function parseSize(size: SizeInput): number {
  if (typeof size === 'number') {
    if (!Number.isSafeInteger(size) || size <= 0)
      throw new TypeError(`A size must be a positive whole number of bytes, got ${size}.`)
    return size
  }
  const match = /^(\d+(?:\.\d+)?)\s*([A-Za-z]+)$/.exec(size.trim())
  const unit = match ? UNITS[(match[2] as string).toUpperCase()] : undefined
  if (!match || unit === undefined)
    throw new TypeError(`Cannot read the size ${JSON.stringify(size)}; write e.g. '10MB' or '5GB'.`)
  const bytes = Math.floor(Number(match[1]) * unit)
  if (!Number.isSafeInteger(bytes) || bytes <= 0)
    throw new TypeError(`The size ${JSON.stringify(size)} is out of range.`)
  return bytes
}
