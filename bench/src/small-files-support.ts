// What the small-files bench (small-files.ts) runs on: CPU of other processes from /proc, a minimal HTTP and tRPC
// client, statistics, and the demo started in its own process.
import { type ChildProcess, spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { type Agent, request } from 'node:http'
import { join, resolve } from 'node:path'
import type { PresignedRequest } from '@upkit/storage'
import { freePort } from '../../e2e/support/demo-process'

const TICKS_PER_SECOND = 100

// --- CPU of other processes, from /proc -------------------------------------------------------------------------

function statOf(pid: number): { ppid: number; cpu: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
    return { ppid: Number(fields[1]), cpu: ticks / TICKS_PER_SECOND }
  } catch {
    return null
  }
}

/** CPU seconds of a process and all its live descendants (a postmaster and its backends). */
export function treeCpu(root: number | null): number {
  if (root === null) return 0
  const stats = new Map<number, { ppid: number; cpu: number }>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const stat = statOf(Number(name))
    if (stat) stats.set(Number(name), stat)
  }
  let total = 0
  const walk = (pid: number) => {
    total += stats.get(pid)?.cpu ?? 0
    for (const [child, stat] of stats) if (stat.ppid === pid) walk(child)
  }
  walk(root)
  return total
}

// --- HTTP -------------------------------------------------------------------------------------------------------

interface Answer {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly text: string
}

export function send(
  agent: Agent,
  url: string,
  method: string,
  headers: Record<string, string>,
  body: Uint8Array | string | null,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const length = body === null ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length
    const req = request(url, { method, agent, headers: { ...headers, 'content-length': String(length) } })
    req.on('error', reject)
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', reject)
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      )
    })
    req.end(body ?? undefined)
  })
}

export async function putSigned(agent: Agent, signed: PresignedRequest, body: Uint8Array): Promise<void> {
  const answer = await send(agent, signed.url, signed.method, signed.headers, body)
  if (answer.status !== 200)
    throw new Error(`PUT ${new URL(signed.url).pathname} -> ${answer.status}: ${answer.text}`)
}

/** A tRPC client as a script would write one: plain JSON over HTTP with the session cookie (no transformer). */
export function trpcClient(agent: Agent, baseUrl: string) {
  let cookie = ''
  const call = async <T>(
    path: string,
    input: unknown,
    kind: 'query' | 'mutation' = 'mutation',
  ): Promise<T> => {
    const headers: Record<string, string> = { origin: baseUrl, 'content-type': 'application/json' }
    if (cookie) headers.cookie = cookie
    const answer =
      kind === 'mutation'
        ? await send(agent, `${baseUrl}/trpc/${path}`, 'POST', headers, JSON.stringify(input))
        : await send(
            agent,
            `${baseUrl}/trpc/${path}${input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`}`,
            'GET',
            headers,
            null,
          )
    const setCookie = answer.headers['set-cookie']
    if (setCookie)
      cookie = (Array.isArray(setCookie) ? setCookie : [setCookie]).map((c) => c.split(';')[0]).join('; ')
    const parsed = JSON.parse(answer.text) as { result?: { data: T }; error?: { message: string } }
    if (!parsed.result)
      throw new Error(`${path} -> ${answer.status}: ${parsed.error?.message ?? answer.text}`)
    return parsed.result.data
  }
  return { call }
}

// --- statistics -------------------------------------------------------------------------------------------------

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

export const hrMicros = () => Number(process.hrtime.bigint() / 1000n)

/** Runs `work(i)` for i in 0..count-1, `concurrency` at a time. */
export async function pool(
  count: number,
  concurrency: number,
  work: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < count) await work(next++)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
}

// --- the demo ---------------------------------------------------------------------------------------------------

const repoRoot = resolve(import.meta.dirname, '../..')

export interface Demo {
  readonly url: string
  readonly pid: number
  /** What the demo printed so far (shown when a run fails). */
  output(): string
  stop(): Promise<void>
}

/**
 * The demo as `pnpm start` runs it (its own process, tsx), started here rather than through e2e's `startDemo` because
 * `--cpu-prof` must be a node flag (NODE_OPTIONS refuses it). Resolves once /healthz answers 200.
 */
export async function startDemo(options: {
  dataDir: string
  env: Record<string, string>
  profileDir: string | null
}): Promise<Demo> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const flags = options.profileDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`]
  const child: ChildProcess = spawn(
    process.execPath,
    [...flags, '--import', 'tsx', join(repoRoot, 'apps/demo/src/server/main.ts')],
    {
      cwd: join(repoRoot, 'apps/demo'),
      env: {
        ...process.env,
        UPKIT_DATA_DIR: options.dataDir,
        PORT: String(port),
        HOST: '127.0.0.1',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`demo exited with ${child.exitCode}:\n${output}`)
    const healthy = await fetch(`${url}/healthz`).then(
      (res) => res.status === 200,
      () => false,
    )
    if (healthy) break
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`demo did not become healthy within 60 s:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  return {
    url,
    pid: child.pid as number,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return
      // SIGTERM: the demo exits through process.exit, which is when --cpu-prof writes its profile.
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}
