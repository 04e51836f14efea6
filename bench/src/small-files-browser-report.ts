// What the small-files browser bench (small-files-browser.ts) prints: each round as it ends, then the medians, the
// goal met or missed, and the time to first byte with the round trips before it.
import type { CpuSample } from './cpu'
import type { BrowserRun, FirstByte } from './small-files-browser-page'
import type { HotSpot } from './small-files-browser-profile'
import { median } from './small-files-support'

export const GOAL = 0.5
/** A side during which processes outside the bench kept more than this share of one core busy is marked noisy. */
export const NOISY_SHARE = 0.25
/**
 * Requests before the first PUT byte in the peers' protocols, from their documentation and source (not measured
 * here): better-upload asks its route once for every file's URL; Uppy's AwsS3 plugin asks its signer once per file.
 */
const PEERS = [
  ['better-upload', '1 (one request for all files, then PUTs)'],
  ['Uppy AwsS3', '1 per file (getUploadParameters signs each file)'],
] as const

export interface Side {
  readonly run: BrowserRun
  /** CPU seconds by group over the run: api (demo process with its local S3 worker), browser, bench, other. */
  readonly cpu: CpuSample
  readonly pgCpu: number
  /** Other processes (someone else's job on a shared box) kept more than NOISY_SHARE of a core busy. */
  readonly noisy: boolean
}

export interface Round {
  readonly order: readonly ('upkit' | 'plain')[]
  readonly upkit: Side
  readonly plain: Side
}

export interface Setup {
  readonly files: number
  readonly fileBytes: number
  readonly plainConcurrency: number
}

/** `uploads.createMany×2, uploads.confirmMany×9, ...` in the order of first use. */
function callsText(calls: readonly string[]): string {
  const counts = new Map<string, number>()
  for (const name of calls) counts.set(name, (counts.get(name) ?? 0) + 1)
  return [...counts].map(([name, n]) => `${name}×${n}`).join(', ') || 'none'
}

/** Where one run's time went: the page's main thread (CDP TaskDuration) and CPU per process group. */
function costText(side: Side): string {
  const { seconds, mainThread: m } = side.run
  const cpu = side.cpu
  const share = (s: number) => `${Math.round((s / seconds) * 100)}%`
  const parts = Object.entries(cpu)
    .filter(([name, s]) => name.startsWith('browser.') && s >= 0.01)
    .map(([name, s]) => `${name.slice('browser.'.length)} ${s.toFixed(2)}`)
    .join(', ')
  return (
    `page main thread busy ${m.task.toFixed(2)} s (${share(m.task)} of the wall; script ${m.script.toFixed(2)}, ` +
    `style ${m.style.toFixed(2)}, layout ${m.layout.toFixed(2)}); CPU s: Chromium ${(cpu.browser ?? 0).toFixed(2)} ` +
    `(${parts}), demo process ${(cpu.api ?? 0).toFixed(2)} (${share(cpu.api ?? 0)}), PostgreSQL ${side.pgCpu.toFixed(2)}, ` +
    `others ${(cpu.other ?? 0).toFixed(2)}${side.noisy ? ` NOISY (${share(cpu.other ?? 0)} of a core)` : ''}`
  )
}

export function printRound(setup: Setup, r: Round, index: number, of: number): void {
  const rate = (side: Side) => setup.files / side.run.seconds
  console.log(
    `  round ${index}/${of} (${r.order.join(', ')}): upkit ${rate(r.upkit).toFixed(1)} files/s ` +
      `(${r.upkit.run.seconds.toFixed(2)} s), plain ${rate(r.plain).toFixed(1)} files/s ` +
      `(${r.plain.run.seconds.toFixed(2)} s), ratio ${(rate(r.upkit) / rate(r.plain)).toFixed(2)}x`,
  )
  for (const side of r.order) console.log(`    ${side.padEnd(5)} ${costText(r[side])}`)
  console.log(`    upkit tRPC calls: ${callsText(r.upkit.run.times.calls)}`)
}

export function printProfile(hotSpots: readonly HotSpot[], totalMs: number): void {
  console.log(
    `\n== Where the demo page's main thread went during one more drop (V8 samples, ${(totalMs / 1000).toFixed(2)} s not idle) ==`,
  )
  for (const spot of hotSpots)
    console.log(
      `  ${spot.selfMs.toFixed(0).padStart(6)} ms ${(spot.share * 100).toFixed(1).padStart(5)}%  ${spot.name}`,
    )
}

export function printReport(
  setup: Setup,
  all: readonly Round[],
  upkitTrials: readonly FirstByte[],
  plainTrials: readonly FirstByte[],
): void {
  const { files, fileBytes } = setup
  const rate = (side: Side) => files / side.run.seconds
  // Rounds where someone else's job was busy during either side are left out, unless fewer than two were quiet:
  // one round is no median, and the noisy mark (a quarter of a core) misses smaller disturbances.
  const quietOnes = all.filter((r) => !r.upkit.noisy && !r.plain.noisy)
  const quiet = quietOnes.length >= Math.min(2, all.length) ? quietOnes : []
  const rounds = quiet.length > 0 ? quiet : all
  const m = (pick: (r: Round) => number) => median(rounds.map(pick))
  const ratio = m((r) => rate(r.upkit) / rate(r.plain))
  console.log(
    `\n== Browser, many small files: ${files} x ${fileBytes / 1024} KiB; ${rounds.length} of ${all.length} round(s) ` +
      `${quiet.length === 0 ? '(NOISY: too few quiet rounds; rerun on a quiet machine)' : '(the quiet ones)'}; ` +
      'medians of rounds, the ratio is the median of per-round ratios ==',
  )
  console.log(
    `  plain browser client (XHR PUTs, ${setup.plainConcurrency} at a time, URLs presigned before the clock) ` +
      `${m((r) => rate(r.plain)).toFixed(1)} files/s`,
  )
  console.log(
    `  upkit demo dropzone, input -> all listed as confirmed ${m((r) => rate(r.upkit)).toFixed(1)} files/s`,
  )
  console.log(
    `  upkit / plain: ${ratio.toFixed(2)}x${quiet.length === 0 ? ' (NOISY)' : ''} ` +
      `(goal >= ${GOAL}x: ${ratio >= GOAL ? 'met' : 'missed'})`,
  )
  const perFile = (seconds: number) => `${((seconds / files) * 1000).toFixed(2)} ms`
  for (const side of ['upkit', 'plain'] as const) {
    const busy = m((r) => r[side].run.mainThread.task / r[side].run.seconds)
    console.log(
      `  ${side.padEnd(5)} per file: page main thread ${perFile(m((r) => r[side].run.mainThread.task))} ` +
        `(busy ${Math.round(busy * 100)}% of the wall), Chromium CPU ${perFile(m((r) => r[side].cpu.browser ?? 0))}, ` +
        `demo process ${perFile(m((r) => r[side].cpu.api ?? 0))}, PostgreSQL ${perFile(m((r) => r[side].pgCpu))}`,
    )
  }

  console.log(
    `\n== Time to first byte, one ${fileBytes / 1024} KiB file: input event -> Chromium sends the first PUT ` +
      `(median of ${upkitTrials.length}) ==`,
  )
  const exchanges = (trials: readonly FirstByte[]) => {
    // Every trial should show the same exchanges; different ones are listed with how often they were seen.
    const kinds = new Map<string, number>()
    for (const t of trials) {
      const key = t.roundTrips.map((x) => x.what).join(' -> ') || 'none'
      kinds.set(key, (kinds.get(key) ?? 0) + 1)
    }
    return [...kinds].map(([key, n]) => `${key} (${n}/${trials.length} trials)`).join('; ')
  }
  const apiTrips = (t: FirstByte) => t.roundTrips.filter((x) => x.what.startsWith('api ')).length
  const ms = (trials: readonly FirstByte[]) =>
    median(trials.map((t) => t.ms))
      .toFixed(1)
      .padStart(6)
  const apiMs = median(
    upkitTrials.map((t) => t.roundTrips.reduce((sum, x) => sum + (x.what.startsWith('api ') ? x.ms : 0), 0)),
  )
  console.log(
    `  upkit dropzone ${ms(upkitTrials)} ms  round trips to the app before the first byte: ` +
      `${median(upkitTrials.map(apiTrips))} measured, ${apiMs.toFixed(1)} ms of it (all exchanges: ${exchanges(upkitTrials)})`,
  )
  // Where the median trial's time went: the page's own work before its first request, then each exchange.
  const sorted = [...upkitTrials].sort((a, b) => a.ms - b.ms)
  const mid = sorted[Math.floor((sorted.length - 1) / 2)]
  if (mid)
    console.log(
      `    median trial: ${mid.roundTrips.map((x) => `+${x.atMs.toFixed(1)} ms ${x.what} (${x.ms.toFixed(1)} ms)`).join(', ')}, ` +
        `+${mid.ms.toFixed(1)} ms first PUT byte`,
    )
  console.log(
    `  plain client   ${ms(plainTrials)} ms  URL presigned before the clock (exchanges: ${exchanges(plainTrials)})`,
  )
  for (const [peer, text] of PEERS)
    console.log(
      `  ${peer.padEnd(14)} round trips to the app before the first byte, by design (not measured): ${text}`,
    )
  console.log('Figures on a shared 2-core machine are noisy; compare ratios from one run, not runs.')
}
