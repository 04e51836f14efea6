import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'

/**
 * Embedded defaults keep their secrets next to their data (mode 0600), so nothing needs configuring and a
 * second `pnpm start` reuses them. Production passes secrets by environment instead.
 */
export function loadOrCreateSecret(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim()
  } catch {
    const secret = randomBytes(32).toString('base64url')
    try {
      writeFileSync(file, secret, { mode: 0o600, flag: 'wx' })
      return secret
    } catch {
      // Another process created it between our read and write: use theirs.
      return readFileSync(file, 'utf8').trim()
    }
  }
}
