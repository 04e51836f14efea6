// Runs in Chromium: bundled by small-files-browser-page.ts and evaluated into the demo's task page and into the plain
// client's page (a blank document on the demo's origin, whose CORS rules the bucket already has). Clocks start at the
// file input's `input` event on both sides, so choosing the files costs both alike.

/** In-page milliseconds (`performance.now()`) of one run, plus the wall clock at its start for CDP's events. */
export interface RunTimes {
  readonly started: number
  readonly done: number
  /** `performance.timeOrigin + started`: epoch milliseconds, comparable with CDP's `wallTime`. */
  readonly wallStarted: number
  /** The page's tRPC procedure calls during the run, one entry per procedure in a batched request (demo only). */
  readonly calls: string[]
}

export interface SignedPut {
  readonly url: string
  readonly headers: Record<string, string>
}

export interface SmallFilesPage {
  /**
   * Starts the clock at `input`'s next `input` event and stops it once the demo's attachment list shows `count`
   * Download links whose names start with `prefix` (listed = confirmed by the server).
   */
  armDemo(input: HTMLInputElement, prefix: string, count: number): void
  /**
   * Makes a multiple-file input (returned) that, when files are set on it, PUTs file i to `signed[i]`, `concurrency`
   * at a time with XMLHttpRequest (the uploader's transport), and stops the clock when the last PUT answered.
   */
  armPlain(signed: readonly SignedPut[], concurrency: number): HTMLInputElement
  /** The armed run's times, once it finished (rejects with what went wrong). */
  result(): Promise<RunTimes>
}

let current: Promise<RunTimes> | null = null

const ALERT = '.upkit-dropzone [role="alert"]'
/**
 * A run not finished by then failed without saying so (a file never listed): the bench stops with what it saw
 * instead of waiting forever. Generous on purpose; this is no goal, a 200-file drop takes seconds.
 */
const GIVE_UP_MS = 180_000

/** tRPC procedures from the Resource Timing entries since the input event (`/trpc/a.b,c.d?batch=1`). */
function trpcCalls(): string[] {
  return performance
    .getEntriesByType('resource')
    .map((entry) => new URL(entry.name))
    .filter((url) => url.origin === location.origin && url.pathname.startsWith('/trpc/'))
    .flatMap((url) => decodeURIComponent(url.pathname.slice('/trpc/'.length)).split(','))
}

function armDemo(input: HTMLInputElement, prefix: string, count: number): void {
  // JSON string syntax is CSS string syntax for the names the bench uses (`r<round>-<i>.bin`).
  const selector = `ul[aria-label="Attachments"] [data-upkit-download][aria-label^=${JSON.stringify(`Download ${prefix}`)}]`
  if (document.querySelector(selector)) throw new Error(`files named ${prefix}* are listed before the drop`)
  current = new Promise<RunTimes>((resolve, reject) => {
    input.addEventListener(
      'input',
      () => {
        const started = performance.now()
        // The default buffer keeps 250 entries: a 200-file drop makes more, and earlier runs must not count.
        performance.setResourceTimingBufferSize(100_000)
        performance.clearResourceTimings()
        const fail = (message: string) => {
          observer.disconnect()
          clearTimeout(timer)
          reject(new Error(message))
        }
        const timer = setTimeout(
          () =>
            fail(
              `${document.querySelectorAll(selector).length} of ${count} files listed after ${GIVE_UP_MS} ms`,
            ),
          GIVE_UP_MS,
        )
        // Observed per mutation batch, not polled, and only the added nodes are searched: a document-wide query per
        // batch cost the page ~5% of its main thread in a 200-file drop (V8 profile), time the plain side never pays.
        // Links are kept in a set and counted while still in the document, as React may replace a row.
        const listed = new Set<Element>()
        const observer = new MutationObserver((records) => {
          for (const record of records) {
            for (const node of record.addedNodes) {
              if (!(node instanceof Element)) continue
              const alert = node.matches(ALERT) ? node : node.querySelector(ALERT)
              if (alert) {
                fail(`the dropzone reported: ${alert.textContent}`)
                return
              }
              if (node.matches(selector)) listed.add(node)
              for (const link of node.querySelectorAll(selector)) listed.add(link)
            }
          }
          if (listed.size < count) return
          let connected = 0
          for (const link of listed) if (link.isConnected) connected++
          if (connected < count) return
          observer.disconnect()
          clearTimeout(timer)
          const done = performance.now()
          resolve({ started, done, wallStarted: performance.timeOrigin + started, calls: trpcCalls() })
        })
        observer.observe(document.body, { childList: true, subtree: true })
      },
      { once: true, capture: true },
    )
  })
}

function put(file: File, signed: SignedPut): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('PUT', signed.url)
    for (const [name, value] of Object.entries(signed.headers)) {
      // The browser sets these itself and refuses scripts that try.
      if (name.toLowerCase() === 'host' || name.toLowerCase() === 'content-length') continue
      xhr.setRequestHeader(name, value)
    }
    xhr.onload = () =>
      xhr.status === 200
        ? resolve()
        : reject(new Error(`PUT ${file.name} -> ${xhr.status}: ${xhr.responseText}`))
    xhr.onerror = () => reject(new Error(`PUT ${file.name}: network error`))
    xhr.timeout = GIVE_UP_MS
    xhr.ontimeout = () => reject(new Error(`PUT ${file.name}: no answer after ${GIVE_UP_MS} ms`))
    xhr.send(file)
  })
}

function armPlain(signed: readonly SignedPut[], concurrency: number): HTMLInputElement {
  const input = document.createElement('input')
  input.type = 'file'
  input.multiple = true
  input.setAttribute('aria-label', 'Plain client files')
  document.body.replaceChildren(input)
  current = new Promise<RunTimes>((resolve, reject) => {
    input.addEventListener(
      'input',
      () => {
        const started = performance.now()
        const files = [...(input.files ?? [])]
        if (files.length !== signed.length) {
          reject(new Error(`${files.length} files chosen for ${signed.length} signed PUTs`))
          return
        }
        let next = 0
        const worker = async () => {
          while (next < files.length) {
            const i = next++
            await put(files[i] as File, signed[i] as SignedPut)
          }
        }
        Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker)).then(() => {
          const done = performance.now()
          resolve({ started, done, wallStarted: performance.timeOrigin + started, calls: [] })
        }, reject)
      },
      { once: true },
    )
  })
  return input
}

const page: SmallFilesPage = {
  armDemo,
  armPlain,
  result: () => current ?? Promise.reject(new Error('no run armed')),
}
;(window as unknown as { upkitSmallFiles: SmallFilesPage }).upkitSmallFiles = page
