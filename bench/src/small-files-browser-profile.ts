// BENCH_BROWSER_PROFILE=1 in the small-files browser bench: one more drop, untimed, with V8's sampling profiler on the
// demo page, to say where its main thread goes. The demo ships minified without source maps, so the profiled page
// loads a private unminified build of the same client (same code, readable function names); each function is shown
// with the start of its code, read from that build.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { extname, join } from 'node:path'
import type { CDPSession, Page } from 'playwright-core'

/** Builds the demo's web client unminified into a folder of its own (apps/demo/dist is left alone). */
export function buildReadableClient(repoRoot: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'upkit-bench-client-'))
  execFileSync('pnpm', ['exec', 'vite', 'build', '--minify', 'false', '--outDir', dir, '--emptyOutDir'], {
    cwd: join(repoRoot, 'apps/demo'),
    stdio: 'ignore',
  })
  return dir
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css' }

/**
 * Opens `url` (a page of the demo) with its script and styles answered from `dir` instead of the demo's build; the
 * document, the API and the bucket stay real. The document must come from the demo: a fulfilled one has no address,
 * so Chromium's Local Network Access checks block its PUTs to the bucket on 127.0.0.1. Raw CDP `Fetch`, not
 * Playwright's `page.route`, so interception truly ends (`Fetch.disable`) before the drop.
 */
/** Resolves the readable script the page ran, for `profileRun` to show code from. */
export async function openWithClient(page: Page, cdp: CDPSession, url: string, dir: string): Promise<string> {
  const origin = new URL(url).origin
  // The demo's hashed names differ from the readable build's: each kind has one file in a Vite build of the client.
  const built = readdirSync(join(dir, 'assets'))
  const only = (ext: string): string => {
    const files = built.filter((name) => extname(name) === ext)
    if (files.length !== 1)
      throw new Error(`expected one ${ext} file in the readable build, found ${files.join(', ')}`)
    return join(dir, 'assets', files[0] as string)
  }
  const assets: Record<string, string> = { '.js': only('.js'), '.css': only('.css') }
  const onPaused = (event: { requestId: string; request: { url: string } }) => {
    const path = new URL(event.request.url).pathname
    const file = path.startsWith('/assets/') ? (assets[extname(path)] ?? null) : null
    const answer =
      file === null
        ? cdp.send('Fetch.continueRequest', { requestId: event.requestId })
        : cdp.send('Fetch.fulfillRequest', {
            requestId: event.requestId,
            responseCode: 200,
            responseHeaders: [{ name: 'content-type', value: TYPES[extname(file)] as string }],
            body: readFileSync(file).toString('base64'),
          })
    answer.catch((error: unknown) => console.error(`    (serving ${path} to the profiled page: ${error})`))
  }
  cdp.on('Fetch.requestPaused', onPaused)
  await cdp.send('Fetch.enable', { patterns: [{ urlPattern: `${origin}/*`, requestStage: 'Request' }] })
  try {
    await page.goto(url)
    await page.getByRole('heading', { name: 'Attachments' }).waitFor()
    await page.getByText(/ at a time$/).waitFor()
  } finally {
    await cdp.send('Fetch.disable')
    cdp.off('Fetch.requestPaused', onPaused)
  }
  return assets['.js'] as string
}

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
  children?: number[]
}

interface Profile {
  nodes: ProfileNode[]
  samples?: number[]
  timeDeltas?: number[]
}

export interface HotSpot {
  readonly name: string
  readonly selfMs: number
  readonly share: number
}

/** Sampling interval: fine enough for a drop of a few seconds, coarse enough to cost the page little. */
const INTERVAL_US = 200

/** Runs `run` with the profiler on and resolves the functions with the most self time, largest first. */
export async function profileRun(
  cdp: CDPSession,
  /** The script the page's `/assets/*.js` came from (`openWithClient`). */
  bundle: string,
  run: () => Promise<unknown>,
  top = 15,
): Promise<{ hotSpots: HotSpot[]; totalMs: number }> {
  await cdp.send('Profiler.enable')
  await cdp.send('Profiler.setSamplingInterval', { interval: INTERVAL_US })
  await cdp.send('Profiler.start')
  let profile: Profile
  try {
    await run()
  } finally {
    profile = ((await cdp.send('Profiler.stop')) as { profile: Profile }).profile
    await cdp.send('Profiler.disable')
  }
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const self = new Map<string, number>()
  const samples = profile.samples ?? []
  const deltas = profile.timeDeltas ?? []
  let totalUs = 0
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; the sample's own duration is the next delta.
    const us = deltas[i + 1] ?? 0
    const node = byId.get(samples[i] as number)
    if (!node) continue
    const name = describe(node, bundle)
    if (name === '(idle)') continue
    totalUs += us
    self.set(name, (self.get(name) ?? 0) + us)
  }
  const hotSpots = [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, selfMs: us / 1000, share: totalUs > 0 ? us / totalUs : 0 }))
  return { hotSpots, totalMs: totalUs / 1000 }
}

/** `name (line:col) «first characters of its code»`; V8's own entries such as `(garbage collector)` as they are. */
function describe(node: ProfileNode, bundle: string): string {
  const { functionName, url, lineNumber, columnNumber } = node.callFrame
  if (url === '') return functionName || '(anonymous native)'
  const path = new URL(url).pathname
  if (!path.startsWith('/assets/')) return `${functionName || '(anonymous)'} (${path}:${lineNumber + 1})`
  bundleLines ??= readFileSync(bundle, 'utf8').split('\n')
  const code = bundleLines[lineNumber]?.slice(columnNumber, columnNumber + 70).replaceAll(/\s+/g, ' ')
  return `${functionName || '(anonymous)'} (${lineNumber + 1}:${columnNumber + 1})${code ? ` «${code}»` : ''}`
}

let bundleLines: string[] | undefined
