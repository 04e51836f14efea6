/**
 * Legacy rows hold paths relative to the uploads folder. A path we accept names one file strictly inside that
 * folder, written with `/`; anything else (absolute, `..`, backslashes, NUL, empty segments) is refused rather than
 * normalized, because a row that needs normalizing was not written by the legacy app and must be looked at.
 */
export type LegacyPathCheck = { ok: true; path: string } | { ok: false; reason: string }

export function checkLegacyPath(raw: string): LegacyPathCheck {
  if (raw === '') return { ok: false, reason: 'the path is empty' }
  if (raw.includes('\0')) return { ok: false, reason: 'the path contains a NUL byte' }
  if (raw.startsWith('/') || /^[a-zA-Z]:/.test(raw) || raw.includes('\\')) {
    return {
      ok: false,
      reason:
        'the path is absolute or uses backslashes; only paths relative to the uploads folder are migrated',
    }
  }
  const segments = raw.split('/')
  if (segments.some((segment) => segment === '..')) {
    return { ok: false, reason: 'the path escapes the uploads folder (..)' }
  }
  if (segments.some((segment) => segment === '' || segment === '.')) {
    return { ok: false, reason: 'the path has empty or "." segments' }
  }
  return { ok: true, path: raw }
}

/** The last segment: the legacy app's stored file name when the row has none of its own. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1)
}
