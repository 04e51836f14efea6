import { randomUUID } from 'node:crypto'
import type { EnginePage, Target } from './driver'
import { MARK, markedSelector } from './in-page'

/** How long an action waits for its element to appear (a render after a click, a list refetch). */
const ACTION_TIMEOUT_MS = 20_000

export function describeTarget(target: Target): string {
  const scope = target.within ? ` in ${target.within.role} "${target.within.name ?? ''}"` : ''
  return 'label' in target
    ? `field labelled "${target.label}"${scope}`
    : `${target.role}${target.name === undefined ? '' : ` "${target.name}"`}${scope}`
}

/**
 * Waits until exactly one visible element matches, marks it, and resolves a CSS selector for it, so each adapter
 * acts on it with its own native click, keyboard or file chooser. Zero matches after the wait, or several, is an
 * error naming the target (never a click on the wrong one).
 */
export async function markTarget(evaluate: EnginePage['evaluate'], target: Target): Promise<string> {
  const token = randomUUID()
  const deadline = Date.now() + ACTION_TIMEOUT_MS
  let count = 0
  for (;;) {
    count = await evaluate<number>(MARK, { target, token })
    if (count === 1) return markedSelector(token)
    if (Date.now() > deadline) break
    await new Promise((resolve) => setTimeout(resolve, 150))
  }
  throw new Error(
    count === 0
      ? `no visible ${describeTarget(target)} within ${ACTION_TIMEOUT_MS / 1000} s`
      : `${count} elements match ${describeTarget(target)}; a journey must name exactly one`,
  )
}

/**
 * Records console output and uncaught errors from inside the page, for engines whose driver does not forward
 * them (classic WebDriver has no log command in WebKitWebDriver). Installed after each navigation, so it misses
 * what the page logged while loading; the journey's own checks say what failed, this only adds context.
 */
export const CAPTURE_CONSOLE = `() => {
  if (window.__upkitConsole) return
  const lines = (window.__upkitConsole = [])
  for (const level of ['log', 'info', 'warn', 'error']) {
    const original = console[level].bind(console)
    console[level] = (...args) => {
      lines.push(level + ': ' + args.map((a) => (a instanceof Error ? a.stack || a.message : String(a))).join(' '))
      original(...args)
    }
  }
  window.addEventListener('error', (event) => lines.push('uncaught: ' + event.message))
  window.addEventListener('unhandledrejection', (event) => lines.push('unhandled rejection: ' + String(event.reason)))
}`

/** Selects the text of the marked field, so what is typed next replaces it. */
export const SELECT_MARKED = `() => document.querySelector('[data-e2e-target]').select()`

export const READ_CONSOLE = '() => window.__upkitConsole || []'
