import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const css = readFileSync(new URL('../styles.css', import.meta.url), 'utf8')

/** Every property a `transition` in the stylesheet animates, with the selector it is declared under. */
function transitions(source: string): { selector: string; property: string }[] {
  const found: { selector: string; property: string }[] = []
  const withoutComments = source.replace(/\/\*[\s\S]*?\*\//g, '')
  for (const rule of withoutComments.matchAll(/([^{}]+)\{([^{}]*)\}/g)) {
    const selector = (rule[1] ?? '').trim()
    for (const declaration of (rule[2] ?? '').matchAll(/(?:^|;)\s*transition(?:-property)?\s*:([^;]*)/g)) {
      for (const item of (declaration[1] ?? '').split(',')) {
        const property = item.trim().split(/\s+/)[0]
        if (property) found.push({ selector, property })
      }
    }
  }
  return found
}

describe('styles.css', () => {
  it('finds the transitions it checks (the dropzone target fades its border and background)', () => {
    expect(transitions(css)).toContainEqual({ selector: '.upkit-dropzone-target', property: 'border-color' })
  })

  // A transition on a box's geometry runs style, layout and paint on the page's main thread every frame while it
  // plays. On a progress bar that a new value restarts every frame, that is for the whole upload: `width 0.2s` on
  // the progress value cost Chromium's renderer 0.87 s of CPU per 1 GiB upload (0.24 s without), taken from the
  // local bucket on a 2-core box (`pnpm bench`: dropzone against a plain browser client, 0.93x -> 1.05x).
  it('animates no property that lays the page out again', () => {
    const layout =
      /^(all|width|height|min-|max-|inset|top|right|bottom|left|margin|padding|border-width|font|line-height|flex|grid|gap)/
    expect(transitions(css).filter(({ property }) => layout.test(property))).toEqual([])
  })
})
