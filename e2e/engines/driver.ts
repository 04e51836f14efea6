/**
 * The few things a journey asks of a browser, so one journey description runs on Playwright (Chromium),
 * puppeteer-core over WebDriver BiDi (Firefox ESR) and selenium-webdriver (WebKitGTK). Anything richer (waiting,
 * reading text, downloading) is built in `journey-steps.ts` from `evaluate`, so the three adapters stay thin.
 */

/** An element the way a user finds it: by its label, or by its role and accessible name (any name if none). */
export type Target =
  | { readonly label: string; readonly within?: Scope }
  | { readonly role: Role; readonly name?: string; readonly within?: Scope }

/** Narrows a search to the inside of a named list or landmark (two "Download x" links could exist otherwise). */
export type Scope = { readonly role: Role; readonly name?: string }

export type Role =
  | 'button'
  | 'link'
  | 'heading'
  | 'img'
  | 'list'
  | 'banner'
  | 'textbox'
  | 'progressbar'
  | 'alert'

export interface EnginePage {
  /** 'chromium', 'firefox' or 'webkit': for messages and file names. */
  readonly engine: string
  goto(url: string): Promise<void>
  /**
   * Runs `source`, the text of a plain-JavaScript function, in the page with `arg` (JSON-serialisable) and
   * resolves what it returns (awaited when a promise). Text, not a function, because tsx compiles the runner's
   * functions with esbuild's keepNames, which puts `__name(...)` calls in them that do not exist in the page.
   */
  evaluate<T>(source: string, arg?: unknown): Promise<T>
  /** A real click (the driver's input events), on the one element `target` names. */
  click(target: Target): Promise<void>
  /** Clears the field, then types `text` into it with the driver's keyboard. */
  fill(target: Target, text: string): Promise<void>
  /** Chooses files from disk on a file input, as the browser's file picker would. */
  setFiles(target: Target, paths: readonly string[]): Promise<void>
  /** A PNG of the viewport, where the driver can take one; diagnostics only. */
  screenshot(path: string): Promise<void>
  /** What the page logged (console messages, uncaught errors), oldest first; diagnostics only. */
  consoleLines(): Promise<readonly string[]>
  /** Closes the page and the browser context or session behind it. */
  close(): Promise<void>
}

export interface Engine {
  readonly name: string
  /** A page in a fresh browser (cookies and storage of its own). */
  open(): Promise<EnginePage>
  close(): Promise<void>
}
