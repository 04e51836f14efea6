import type { EnginePage, Target } from './driver'
import { BODY_TEXT, COUNT, FETCH_DIGEST, READ } from './in-page'
import { describeTarget } from './targets'

/** Steps and checks shared by every journey, built only from the driver interface. */

/** A check's own deadline: long enough for a render or a refetch on a busy 2-core machine. */
const CHECK_TIMEOUT_MS = 20_000

/**
 * Polls `probe` until it returns something other than `undefined`, then resolves it. On the deadline, fails with
 * `what` and the last thing seen, so a red journey says what it was waiting for and what it got instead.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<{ done: true; value: T } | { done: false; seen: unknown }>,
  timeoutMs = CHECK_TIMEOUT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let seen: unknown
  for (;;) {
    const result = await probe()
    if (result.done) return result.value
    seen = result.seen
    if (Date.now() > deadline) break
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`waited ${timeoutMs / 1000} s for ${what}; last seen: ${JSON.stringify(seen)}`)
}

export const countOf = (page: EnginePage, target: Target) => page.evaluate<number>(COUNT, target)

/** An attribute of the first match; 'value', 'text', 'naturalWidth' and 'focused' read live properties. */
export const readOf = (page: EnginePage, target: Target, attribute: string) =>
  page.evaluate<string | null>(READ, { target, attribute })

export async function expectVisible(page: EnginePage, target: Target, timeoutMs = CHECK_TIMEOUT_MS) {
  await waitFor(
    `${describeTarget(target)} to be visible`,
    async () => {
      const count = await countOf(page, target)
      return count > 0 ? { done: true, value: undefined } : { done: false, seen: `${count} matches` }
    },
    timeoutMs,
  )
}

export async function expectCount(page: EnginePage, target: Target, expected: number) {
  await waitFor(`${expected} of ${describeTarget(target)}`, async () => {
    const count = await countOf(page, target)
    return count === expected ? { done: true, value: undefined } : { done: false, seen: `${count} matches` }
  })
}

/** Waits until an attribute of `target` passes `accept`; resolves its value. */
export async function expectRead(
  page: EnginePage,
  target: Target,
  attribute: string,
  accept: RegExp | string | ((value: string) => boolean),
  timeoutMs = CHECK_TIMEOUT_MS,
): Promise<string> {
  const test =
    typeof accept === 'function'
      ? accept
      : typeof accept === 'string'
        ? (value: string) => value === accept
        : (value: string) => accept.test(value)
  return waitFor(
    `${attribute} of ${describeTarget(target)} to match ${String(accept)}`,
    async () => {
      const value = await readOf(page, target, attribute)
      return value !== null && test(value) ? { done: true, value } : { done: false, seen: value }
    },
    timeoutMs,
  )
}

/** Waits for `text` anywhere in the page's visible text. */
export async function expectText(page: EnginePage, text: string, timeoutMs = CHECK_TIMEOUT_MS) {
  await waitFor(
    `the page to show "${text}"`,
    async () => {
      const body = await page.evaluate<string>(BODY_TEXT)
      return body.includes(text) ? { done: true, value: undefined } : { done: false, seen: body.slice(-600) }
    },
    timeoutMs,
  )
}

export interface FetchedDigest {
  readonly status: number
  readonly type: string | null
  readonly bytes: number
  readonly sha256: string
}

/** GETs `url` from the page (its cookies, its origin, redirects followed) and hashes the body there. */
export const fetchDigest = (page: EnginePage, url: string) => page.evaluate<FetchedDigest>(FETCH_DIGEST, url)

/** Throws `message` with what was found when `ok` is false: the journeys' plain assertion. */
export function check(ok: boolean, message: string, found?: unknown): asserts ok {
  if (!ok) throw new Error(found === undefined ? message : `${message}; found: ${JSON.stringify(found)}`)
}

export async function signIn(page: EnginePage, baseUrl: string, email: string) {
  await page.goto(baseUrl)
  await page.fill({ label: 'Email' }, email)
  await page.click({ role: 'button', name: 'Sign in' })
  await expectVisible(page, { role: 'heading', name: 'Tasks' })
}

/** Opens a task from the home page by its title. */
export async function openTask(page: EnginePage, title: string) {
  await page.click({ role: 'link', name: title })
  await expectVisible(page, { role: 'heading', name: 'Attachments' })
  await expectVisible(page, { role: 'heading', name: 'Comments' })
}
