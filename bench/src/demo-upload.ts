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
  readonly seconds: number
  /** tRPC procedure name -> calls (a batched request counts once per procedure in it). */
  readonly calls: Record<string, number>
  readonly httpRequests: number
  /** Request payload (POST body, or the query string of a GET) plus response body, over every tRPC request. */
  readonly apiBodyBytes: number
  /** The same plus request and response headers, as Chromium measured them. */
  readonly apiWireBytes: number
}

/**
 * Attaches `path` with the real dropzone ("Attach files") and waits until the attachment list shows it, watching
 * every tRPC request the page makes meanwhile.
 */
export async function uploadWithDropzone(
  page: Page,
  path: string,
  fileName: string,
): Promise<DemoUploadResult> {
  const calls: Record<string, number> = {}
  const sizes: Promise<{ body: number; wire: number }>[] = []
  const onRequest = (request: Request) => {
    const url = new URL(request.url())
    if (!url.pathname.startsWith('/trpc/')) return
    for (const name of decodeURIComponent(url.pathname.slice('/trpc/'.length)).split(',')) {
      calls[name] = (calls[name] ?? 0) + 1
    }
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
  page.on('request', onRequest)
  const started = performance.now()
  try {
    await page.getByLabel('Attach files').setInputFiles(path)
    await page
      .getByRole('list', { name: 'Attachments' })
      .getByRole('button', { name: `Download ${fileName}` })
      .waitFor({ timeout: 600_000 })
  } finally {
    page.off('request', onRequest)
  }
  const seconds = (performance.now() - started) / 1000
  const measured = await Promise.all(sizes)
  return {
    seconds,
    calls,
    httpRequests: measured.length,
    apiBodyBytes: measured.reduce((sum, s) => sum + s.body, 0),
    apiWireBytes: measured.reduce((sum, s) => sum + s.wire, 0),
  }
}
