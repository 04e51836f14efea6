// The browser side of the small-files browser bench (small-files-browser.ts): drops on the demo's dropzone, the plain
// client's PUTs, the renderer's main-thread time from CDP, and the first PUT byte with the round trips before it.
import { join } from 'node:path'
import { build } from 'esbuild'
import type { CDPSession, Page } from 'playwright-core'
import type { RunTimes, SignedPut, SmallFilesPage } from './page/small-files-page'

/** Bundles page/small-files-page.ts as one script to evaluate into a page (the demo's CSP refuses injected tags). */
export async function bundleSmallFilesPage(): Promise<string> {
  const result = await build({
    entryPoints: [join(import.meta.dirname, 'page/small-files-page.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    minify: true,
    logLevel: 'error',
  })
  const output = result.outputFiles[0]
  if (!output) throw new Error('esbuild produced no output')
  return output.text
}

type WithBench = Window & { upkitSmallFiles: SmallFilesPage }

/** The renderer main thread's busy time, from CDP `Performance.getMetrics` (seconds, cumulative per page). */
export interface MainThread {
  /** Every task the main thread ran: script, style, layout, paint, parsing... */
  readonly task: number
  readonly script: number
  readonly layout: number
  readonly style: number
}

export async function mainThread(cdp: CDPSession): Promise<MainThread> {
  const { metrics } = await cdp.send('Performance.getMetrics')
  const value = (name: string) => metrics.find((m) => m.name === name)?.value ?? 0
  return {
    task: value('TaskDuration'),
    script: value('ScriptDuration'),
    layout: value('LayoutDuration'),
    style: value('RecalcStyleDuration'),
  }
}

export function mainThreadDelta(before: MainThread, after: MainThread): MainThread {
  return {
    task: after.task - before.task,
    script: after.script - before.script,
    layout: after.layout - before.layout,
    style: after.style - before.style,
  }
}

export interface BrowserRun {
  readonly times: RunTimes
  readonly seconds: number
  readonly mainThread: MainThread
}

async function timed(cdp: CDPSession, page: Page, start: () => Promise<void>): Promise<BrowserRun> {
  const before = await mainThread(cdp)
  await start()
  // The page's own promise, not a Playwright waitFor: polls would resolve selectors on the renderer that uploads.
  const times = await page.evaluate(() => (window as unknown as WithBench).upkitSmallFiles.result())
  const after = await mainThread(cdp)
  return { times, seconds: (times.done - times.started) / 1000, mainThread: mainThreadDelta(before, after) }
}

/**
 * Sets `paths` on the demo's "Attach files" input (as choosing them in the dialog would) and resolves once all are
 * listed as confirmed; the page must have the bench script (`bundleSmallFilesPage`) evaluated into it.
 */
export function dropOnDemo(page: Page, cdp: CDPSession, paths: readonly string[], prefix: string) {
  const input = page.getByLabel('Attach files')
  return timed(cdp, page, async () => {
    await input.evaluate(
      (element, { prefix, count }) =>
        (window as unknown as WithBench).upkitSmallFiles.armDemo(element as HTMLInputElement, prefix, count),
      { prefix, count: paths.length },
    )
    await input.setInputFiles([...paths])
  })
}

/** PUTs `paths` to `signed` (one URL per file, presigned by the caller) from the plain page, `concurrency` at a time. */
export function plainUpload(
  page: Page,
  cdp: CDPSession,
  paths: readonly string[],
  signed: readonly SignedPut[],
  concurrency: number,
) {
  return timed(cdp, page, async () => {
    const input = await page.evaluateHandle(
      ({ signed, concurrency }) =>
        (window as unknown as WithBench).upkitSmallFiles.armPlain(signed, concurrency),
      { signed: [...signed], concurrency },
    )
    await input.setInputFiles([...paths])
    await input.dispose()
  })
}

/** One HTTP exchange the page finished between the input event and the first PUT byte. */
export interface RoundTrip {
  /** `api uploads.createMany`, `preflight /upkit/...` or `GET /path`. */
  readonly what: string
  /** Sent this long after the input event. */
  readonly atMs: number
  readonly ms: number
}

export interface FirstByte {
  /** The file input's `input` event -> Chromium started sending the first PUT to the bucket. */
  readonly ms: number
  readonly roundTrips: RoundTrip[]
}

interface Exchange {
  url: string
  method: string
  preflight: boolean
  /** CDP monotonic seconds. */
  started: number
  finished: number | null
  sendStart: number | null
}

/**
 * Runs `run` (one file chosen, timed in the page) with CDP's Network events on, and finds the first PUT to the
 * bucket: when its bytes started to go out (`timing.requestTime + sendStart`) and which exchanges the page
 * completed before that. Network events cost the bench some DevTools traffic, so only these single-file trials
 * turn them on, never the throughput runs.
 */
export async function firstByte(
  cdp: CDPSession,
  origins: { api: string; bucket: string },
  run: () => Promise<BrowserRun>,
): Promise<FirstByte> {
  const exchanges = new Map<string, Exchange>()
  // CDP's `timestamp` is monotonic seconds; `wallTime` (epoch seconds) on requestWillBeSent maps it to the page's
  // `performance.timeOrigin + now()`, the clock of the input event.
  let wallMinusMono: number | null = null
  const onSent = (e: {
    requestId: string
    request: { url: string; method: string }
    timestamp: number
    wallTime: number
    type?: string
  }) => {
    wallMinusMono ??= e.wallTime - e.timestamp
    exchanges.set(e.requestId, {
      url: e.request.url,
      method: e.request.method,
      preflight: e.type === 'Preflight' || e.request.method === 'OPTIONS',
      started: e.timestamp,
      finished: null,
      sendStart: null,
    })
  }
  const onResponse = (e: {
    requestId: string
    timestamp: number
    response: { timing?: { requestTime: number; sendStart: number } }
  }) => {
    const exchange = exchanges.get(e.requestId)
    if (!exchange) return
    exchange.finished ??= e.timestamp
    const timing = e.response.timing
    if (timing) exchange.sendStart = timing.requestTime + timing.sendStart / 1000
  }
  cdp.on('Network.requestWillBeSent', onSent)
  cdp.on('Network.responseReceived', onResponse)
  await cdp.send('Network.enable')
  let result: BrowserRun
  try {
    result = await run()
  } finally {
    await cdp.send('Network.disable')
    cdp.off('Network.requestWillBeSent', onSent)
    cdp.off('Network.responseReceived', onResponse)
  }
  if (wallMinusMono === null) throw new Error('CDP reported no request during the trial')
  const inputMono = result.times.wallStarted / 1000 - wallMinusMono
  const all = [...exchanges.values()]
  const puts = all.filter(
    (x) => x.method === 'PUT' && new URL(x.url).origin === origins.bucket && x.sendStart !== null,
  )
  const first = Math.min(...puts.map((x) => x.sendStart as number))
  if (!Number.isFinite(first)) throw new Error('no PUT to the bucket with send timing during the trial')
  const describe = (x: Exchange): string => {
    const url = new URL(x.url)
    if (x.preflight) return `preflight ${url.origin === origins.bucket ? 'bucket' : url.origin}`
    if (url.origin === origins.api && url.pathname.startsWith('/trpc/'))
      return `api ${decodeURIComponent(url.pathname.slice('/trpc/'.length))}`
    return `${x.method} ${url.pathname}`
  }
  // 1 ms of slack: the wall clock mapping rounds; an exchange that began before the input is the page's own.
  const roundTrips = all
    .filter((x) => x.started >= inputMono - 0.001 && x.finished !== null && x.finished <= first)
    .sort((a, b) => a.started - b.started)
    .map((x) => ({
      what: describe(x),
      atMs: (x.started - inputMono) * 1000,
      ms: ((x.finished as number) - x.started) * 1000,
    }))
  return { ms: (first - inputMono) * 1000, roundTrips }
}
