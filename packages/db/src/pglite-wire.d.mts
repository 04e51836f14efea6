import type { PGlite } from '@electric-sql/pglite'

/** Serves `db` on the Unix socket `path`, one connection at a time (see pglite-wire.mjs). */
export function servePgliteWire(
  db: PGlite,
  path: string,
  options?: { waitMs?: number },
): Promise<{ close(): Promise<void> }>
