// BENCH_BROWSER_PROFILE=1 in the small-files browser bench: one more drop, untimed, with V8's sampling profiler on the
// demo page, to say where its main thread goes. The demo ships minified without source maps, so each function is
// shown with the start of its minified code, read from the built bundle on disk.
import { readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import type { CDPSession } from 'playwright-core'

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
  assetsDir: string,
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
    const name = describe(node, assetsDir)
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

const bundles = new Map<string, string[] | null>()

/** `name (file:line:col) «first characters of its code»`; V8's own entries such as `(garbage collector)` as they are. */
function describe(node: ProfileNode, assetsDir: string): string {
  const { functionName, url, lineNumber, columnNumber } = node.callFrame
  if (url === '') return functionName || '(anonymous native)'
  const file = basename(new URL(url).pathname)
  let lines = bundles.get(file)
  if (lines === undefined) {
    try {
      lines = readFileSync(join(assetsDir, file), 'utf8').split('\n')
    } catch {
      lines = null
    }
    bundles.set(file, lines)
  }
  const code = lines?.[lineNumber]?.slice(columnNumber, columnNumber + 70).replaceAll(/\s+/g, ' ')
  return `${functionName || '(anonymous)'} (${file}:${lineNumber + 1}:${columnNumber + 1})${code ? ` «${code}»` : ''}`
}
