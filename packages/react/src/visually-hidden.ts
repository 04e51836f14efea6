import type { CSSProperties } from 'react'

/**
 * Hides an element from sight but not from screen readers (live regions, extra labels). Inline, so the
 * components work without the host shipping any CSS for it.
 */
export const VISUALLY_HIDDEN: CSSProperties = {
  position: 'absolute',
  width: 1,
  height: 1,
  padding: 0,
  margin: -1,
  overflow: 'hidden',
  clip: 'rect(0 0 0 0)',
  whiteSpace: 'nowrap',
  border: 0,
}
