import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** The parts of a V8 `.cpuprofile` (what `node --cpu-prof` writes) this file reads. */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number
    readonly callFrame: { readonly functionName: string; readonly url: string }
    readonly children?: readonly number[]
  }[]
  /** Microseconds on the monotonic clock, the one `process.hrtime` reads in every process of the machine. */
  readonly startTime: number
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
}

/** Every profile in `dir` (one per thread: the main thread, and tsx's loader thread, idle during the runs). */
export function readProfiles(dir: string): CpuProfile[] {
  let names: string[]
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'))
  } catch {
    return []
  }
  return names.map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as CpuProfile)
}

/**
 * Categories, tried from the innermost frame outwards: the first frame that belongs to a known package names the
 * sample, so the CPU of node:crypto under the local S3 server's signature check counts as the local S3 server, and
 * Prisma's under upkit's confirm counts as Prisma.
 */
const CATEGORIES: readonly [string, (url: string, fn: string) => boolean][] = [
  ['PGlite (PostgreSQL in wasm)', (url) => url.includes('pglite')],
  ['Prisma (client, query compiler, adapter)', (url) => /prisma|adapter-pg|\/pg\//.test(url)],
  ['presigning (AWS SDK s3-request-presigner)', (url) => url.includes('s3-request-presigner')],
  ['AWS SDK requests (HEAD, GET, middleware)', (url) => /@aws-sdk|@smithy|@aws-crypto/.test(url)],
  ['local S3 server (in-process)', (url) => url.includes('local-s3')],
  ['upkit storage (hand-signed presign, reads)', (url) => url.includes('packages/storage/')],
  ['tRPC', (url) => url.includes('@trpc')],
  ['zod', (url) => url.includes('/zod/')],
  ['upkit server', (url) => url.includes('packages/server/') || url.includes('packages/core/')],
  ['demo app (session, routes)', (url) => url.includes('apps/demo/')],
]

/**
 * CPU microseconds per category over the samples taken inside `windows` (process.hrtime µs), largest first. Idle
 * time is left out; GC and samples in no known package (node's http, streams, timers) get their own rows.
 */
export function profileBreakdown(
  profiles: readonly CpuProfile[],
  windows: readonly (readonly [number, number])[],
): [string, number][] {
  const totals = new Map<string, number>()
  for (const profile of profiles) {
    const parent = new Map<number, number>()
    const byId = new Map(profile.nodes.map((node) => [node.id, node]))
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
    const categoryOf = new Map<number, string | null>()
    const underPresigner = (id: number): boolean => {
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        if (byId.get(at)?.callFrame.url.includes('s3-request-presigner')) return true
      }
      return false
    }
    const classify = (id: number): string | null => {
      const known = categoryOf.get(id)
      if (known !== undefined) return known
      const node = byId.get(id)
      let found: string | null = null
      if (node) {
        const { url, functionName } = node.callFrame
        if (functionName === '(idle)') found = 'idle'
        else if (functionName === '(garbage collector)') found = 'garbage collector'
        else if (functionName === '(program)') found = 'V8/native (program)'
        else {
          const hit = url === '' ? undefined : CATEGORIES.find(([, test]) => test(url, functionName))
          if (hit) {
            found = hit[0]
            // The SDK's signer serves both its own requests and the presigner: a presign is a presign.
            if (found.startsWith('AWS SDK') && underPresigner(id))
              found = 'presigning (AWS SDK s3-request-presigner)'
          } else {
            const up = parent.get(id)
            found = up === undefined ? null : classify(up)
          }
        }
      }
      categoryOf.set(id, found)
      return found
    }
    // The innermost known frame wins, so resolve leaf-first: `classify` walks up only until it meets one.
    let time = profile.startTime
    for (let i = 0; i < profile.samples.length; i++) {
      const delta = profile.timeDeltas[i] ?? 0
      time += delta
      if (!windows.some(([from, to]) => time >= from && time <= to)) continue
      const category = classify(profile.samples[i] as number) ?? 'node runtime (http, streams, timers, other)'
      if (category === 'idle') continue
      // A sample stands for the interval up to the next one; the next delta is that interval.
      const weight = profile.timeDeltas[i + 1] ?? delta
      totals.set(category, (totals.get(category) ?? 0) + weight)
    }
  }
  return [...totals].sort((a, b) => b[1] - a[1])
}
