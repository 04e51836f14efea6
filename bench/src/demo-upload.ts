import type { Page, Request } from 'playwright-core'

const TASK = 'Ship the new logo'

export async function signIn(page: Page, baseUrl: string, email: string): Promise<void> {
  await page.goto(baseUrl)
  await page.getByLabel('Email').fill(email)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { name: 'Tasks' }).waitFor()
}

export async function openTask(page: Page): Promise<void> {
  await page.getByRole('link', { name: TASK }).click()
  await page.getByRole('heading', { name: 'Attachments' }).waitFor()
}

export interface DemoUploadResult {
  /** In the page: the file input's `input` event -> the attachment's Download link in the list. */
  readonly seconds: number
  /**
   * In the page: the file input's `input` event -> the bucket answered the last transfer request (Complete of a
   * multipart upload, or the single PUT): what a plain client's Create -> Complete measures, before upkit's
   * `confirm` and the list refresh.
   */
  readonly transferSeconds: number
  /**
   * The same upload seen from the bench process: Playwright's setInputFiles -> the in-page timer's answer
   * arrived. Printed, not used: it adds the DevTools round trips of the harness.
   */
  readonly harnessSeconds: number
  /** tRPC procedure name -> calls (a batched request counts once per procedure in it), from Resource Timing. */
  readonly calls: Record<string, number>
  /** Set only by an instrumented run (see `uploadWithDropzone`). */
  readonly apiBytes: { readonly httpRequests: number; readonly body: number; readonly wire: number } | null
}

/** Set on `window` by `armTimer`: resolves the in-page milliseconds of the upload (see `InPage`). */
const TIMER = '__upkitBenchUpload'

interface InPage {
  /** `performance.now()` at the file input's `input` event. */
  readonly started: number
  /** `performance.now()` when the list showed the file's Download link. */
  readonly listed: number
  /** Resource Timing entries from the input event on: URL, start, response end. */
  readonly requests: { readonly url: string; readonly start: number; readonly end: number }[]
}

/**
 * Starts the in-page clock at the file input's `input` event and stops it when the list shows the file's Download
 * link (a MutationObserver, so the stop is seen within the mutation that renders it, not at a poll).
 */
function armTimer(page: Page, fileName: string): Promise<void> {
  // No named inner functions: tsx compiles them with a `__name` helper the page does not have.
  return page.getByLabel('Attach files').evaluate(
    (input, { key, selector }) => {
      if (document.querySelector(selector)) throw new Error(`${selector} exists before the upload`)
      ;(window as unknown as Record<string, Promise<unknown>>)[key] = new Promise((resolve, reject) => {
        input.addEventListener(
          'input',
          () => {
            const started = performance.now()
            // The default buffer keeps 250 entries; earlier runs must not fill it.
            performance.clearResourceTimings()
            new MutationObserver((_records, observer) => {
              // A failed upload shows its message in an alert: end the run with it instead of waiting forever.
              const alert = document.querySelector('.upkit-dropzone [role="alert"]')
              if (alert) {
                observer.disconnect()
                reject(new Error(`the dropzone reported: ${alert.textContent}`))
                return
              }
              if (!document.querySelector(selector)) return
              observer.disconnect()
              const listed = performance.now()
              const requests = performance
                .getEntriesByType('resource')
                .filter((entry) => entry.startTime >= started)
                .map((entry) => ({
                  url: entry.name,
                  start: entry.startTime,
                  end: (entry as PerformanceResourceTiming).responseEnd,
                }))
              resolve({ started, listed, requests })
            }).observe(document.body, { childList: true, subtree: true, attributes: true })
          },
          { once: true, capture: true },
        )
      })
    },
    {
      key: TIMER,
      // JSON string syntax is CSS string syntax for the names the bench uses (`bench-<n>-<size>mib.bin`).
      // `[data-upkit-download]`: the Download link (or button, for apps that opt out of links) of the row.
      selector: `ul[aria-label="Attachments"] [data-upkit-download][aria-label=${JSON.stringify(`Download ${fileName}`)}]`,
    },
  )
}

/** Procedure name -> calls, from the tRPC request URLs (`/trpc/a.b,c.d?batch=1`). */
function countCalls(urls: readonly string[]): Record<string, number> {
  const calls: Record<string, number> = {}
  for (const raw of urls) {
    const url = new URL(raw)
    if (!url.pathname.startsWith('/trpc/')) continue
    for (const name of decodeURIComponent(url.pathname.slice('/trpc/'.length)).split(',')) {
      calls[name] = (calls[name] ?? 0) + 1
    }
  }
  return calls
}

/**
 * The bucket request that finished the transfer: the last Complete (`?uploadId=` without `partNumber`) or,
 * for a single PUT, the last request to the bucket's origin.
 */
function transferEnd(requests: InPage['requests'], bucketOrigin: string): number {
  const bucket = requests.filter((r) => new URL(r.url).origin === bucketOrigin)
  const completes = bucket.filter((r) => {
    const params = new URL(r.url).searchParams
    return params.has('uploadId') && !params.has('partNumber')
  })
  const last = (completes.length > 0 ? completes : bucket).reduce<number | null>(
    (latest, r) => (latest === null || r.end > latest ? r.end : latest),
    null,
  )
  if (last === null) throw new Error('the page sent nothing to the bucket during the upload')
  return last
}

/**
 * Attaches `path` with the real dropzone ("Attach files") and waits until the attachment list shows it, timed in
 * the page. With `instrumented`, every tRPC request is also watched through Playwright for its bytes: that costs
 * the bench process CPU and the browser DevTools traffic, so timed runs leave it off and one extra run measures
 * the bytes.
 */
export async function uploadWithDropzone(
  page: Page,
  path: string,
  fileName: string,
  options: { bucketOrigin: string; instrumented?: boolean },
): Promise<DemoUploadResult> {
  const sizes: Promise<{ body: number; wire: number }>[] = []
  const onRequest = (request: Request) => {
    const url = new URL(request.url())
    if (!url.pathname.startsWith('/trpc/')) return
    const sent = request.postDataBuffer()?.length ?? Buffer.byteLength(url.search)
    sizes.push(
      (async () => {
        const response = await request.response()
        const body = response ? (await response.body()).length : 0
        const measured = await request.sizes()
        return {
          body: sent + body,
          wire:
            measured.requestHeadersSize +
            measured.requestBodySize +
            measured.responseHeadersSize +
            measured.responseBodySize,
        }
      })(),
    )
  }
  await armTimer(page, fileName)
  if (options.instrumented) page.on('request', onRequest)
  const started = performance.now()
  let inPage: InPage
  try {
    await page.getByLabel('Attach files').setInputFiles(path)
    // Awaiting the page's own promise, not a Playwright waitFor: that polls (every 500 ms after the first
    // ~0.3 s), and each poll resolves role selectors in the page, forcing style and layout on the renderer
    // that is uploading; the plain browser run has no such visitor.
    inPage = await page.evaluate(
      (key) => (window as unknown as Record<string, Promise<InPage>>)[key] as Promise<InPage>,
      TIMER,
    )
  } finally {
    page.off('request', onRequest)
  }
  const harnessSeconds = (performance.now() - started) / 1000
  // What a person sees, checked once the clock has stopped.
  await page
    .getByRole('list', { name: 'Attachments' })
    .getByRole('link', { name: `Download ${fileName}` })
    .waitFor({ timeout: 10_000 })
  const measured = await Promise.all(sizes)
  return {
    seconds: (inPage.listed - inPage.started) / 1000,
    transferSeconds: (transferEnd(inPage.requests, options.bucketOrigin) - inPage.started) / 1000,
    harnessSeconds,
    calls: countCalls(inPage.requests.map((r) => r.url)),
    apiBytes: options.instrumented
      ? {
          httpRequests: measured.length,
          body: measured.reduce((sum, s) => sum + s.body, 0),
          wire: measured.reduce((sum, s) => sum + s.wire, 0),
        }
      : null,
  }
}
