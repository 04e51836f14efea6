// Runs in Chromium: bundled by small-files-browser-page.ts and evaluated into the demo's task page and into the plain
// client's page (a blank document on the demo's origin, whose CORS rules the bucket already has). Clocks start at the
// file input's `input` event on both sides, so choosing the files costs both alike.

/** In-page milliseconds (`performance.now()`) of one run, plus the wall clock at its start for CDP's events. */
export interface RunTimes {
  readonly started: number
  readonly done: number
  /** `performance.timeOrigin + started`: epoch milliseconds, comparable with CDP's `wallTime`. */
  readonly wallStarted: number
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

function armDemo(input: HTMLInputElement, prefix: string, count: number): void {
  // JSON string syntax is CSS string syntax for the names the bench uses (`r<round>-<i>.bin`).
  const selector = `ul[aria-label="Attachments"] [data-upkit-download][aria-label^=${JSON.stringify(`Download ${prefix}`)}]`
  if (document.querySelector(selector)) throw new Error(`files named ${prefix}* are listed before the drop`)
  current = new Promise<RunTimes>((resolve, reject) => {
    input.addEventListener(
      'input',
      () => {
        const started = performance.now()
        // Observed per mutation batch, not polled: the stop is seen in the commit that renders the last link.
        const observer = new MutationObserver(() => {
          const alert = document.querySelector(ALERT)
          if (alert) {
            observer.disconnect()
            reject(new Error(`the dropzone reported: ${alert.textContent}`))
            return
          }
          if (document.querySelectorAll(selector).length < count) return
          observer.disconnect()
          const done = performance.now()
          resolve({ started, done, wallStarted: performance.timeOrigin + started })
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
          resolve({ started, done, wallStarted: performance.timeOrigin + started })
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
