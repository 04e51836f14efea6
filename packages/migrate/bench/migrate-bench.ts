// `pnpm --filter @upkit/migrate bench [files] [MiB]`: builds a legacy folder (default 10,000 files, ~1 GiB, varied
// sizes) once, then times `migrateUploads` against `rclone copy` of the same folder to a local S3 server, in
// rounds (BENCH_RUNS, default 5) whose order alternates (upkit first, then rclone first, ...), and reports the
// median of the per-round ratios. rclone runs as an operator would run it (its defaults: 4 transfers) and with
// `--transfers 8` like upkit's default concurrency (RCLONE_TRANSFERS: comma-separated, default `default,8`).
// Needs rclone (apt-get install -y rclone): without it the bench fails rather than print half a comparison.
//
// Every timed run starts from the same state: a fresh local S3 server process with an empty bucket, and for upkit
// a fresh process and database (a new PGlite folder; with DATABASE_URL, a throwaway database whose upkit and legacy tables are emptied each round).
// Before each run the page cache is settled (`sync`), so no run pays for writing back files that the fixture or
// the previous run left dirty; MIGRATE_BENCH_SETTLE=0 skips that, to see what it costs. Not run by the tests.
import { fork, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createS3BucketStorage, s3Presets } from '@upkit/storage'
import { positiveIntEnv } from '../../../bench/src/env'
import { writeLegacyFixture } from '../src/fixtures'
import { describeSample, type InProcessSample, mib, type RunSample, watchRun } from './probes'
import type { UpkitRunResult, UpkitRunSetup } from './upkit-run'

const files = Number(process.argv[2] ?? 10_000)
const targetBytes = Number(process.argv[3] ?? 1024) * 1024 * 1024
const concurrency = positiveIntEnv('CONCURRENCY', 8)
/** Unset: migrateUploads' default. Set to see what the batch size does to the database's share. */
const batchSize = process.env.BATCH_SIZE ? positiveIntEnv('BATCH_SIZE', 1) : undefined
/**
 * Default 5 rounds, as the upload bench: one round's ratio moves by ±10-20% on a shared 2-core machine, and five
 * keep one or two disturbed rounds out of the median while the whole bench stays around three minutes.
 */
const rounds = positiveIntEnv('BENCH_RUNS', 5)
const settle = process.env.MIGRATE_BENCH_SETTLE !== '0'
/** A run during which other processes kept more than this share of one core busy is flagged as noisy. */
const NOISY_SHARE = 0.25
const GOAL = 1.0

// Checked before anything is written: a comparison that silently loses one side is worse than none.
const rcloneVersion = spawnSync('rclone', ['version'], { encoding: 'utf8' })
if (rcloneVersion.error !== undefined || rcloneVersion.status !== 0) {
  console.error(
    'The migration bench compares `upkit migrate` with `rclone copy`, and rclone is not installed here.\n' +
      'Install it (Debian/Ubuntu): apt-get install -y rclone   (with sudo on a developer machine)',
  )
  process.exit(1)
}

// Mostly small files with a long tail, like real attachments: 1 in 500 is ~24 MiB, 1 in 20 ~1 MiB, the rest
// a few KiB to ~150 KiB; scaled so the total lands near `targetBytes`.
const shape = (i: number) =>
  i % 500 === 499
    ? 24 * 1024 * 1024
    : i % 20 === 19
      ? 1024 * 1024 + (i % 997) * 300
      : 2048 + ((i * 7919) % 150) * 1024
let rawTotal = 0
for (let i = 0; i < files; i++) rawTotal += shape(i)
const scale = targetBytes / rawTotal
const sizeOf = (i: number) => Math.round(shape(i) * scale)

/** `sync`'s wall time: how much writeback was pending, which whatever ran next would otherwise have shared. */
function syncDisks(): number {
  const started = performance.now()
  spawnSync('sync')
  return (performance.now() - started) / 1000
}

/** Reads every file once, so both tools read the fixture from the page cache, never the first from disk. */
function readAll(path: string): number {
  let bytes = 0
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name)
    if (entry.isDirectory()) bytes += readAll(child)
    else if (entry.isFile()) bytes += readFileSync(child).length
  }
  return bytes
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

interface Run {
  seconds: number
  sample: RunSample
  noisy: boolean
  /** Seconds `sync` took right before the run (0 when not settling). */
  syncBefore: number
  /** upkit only: database time (plan + batch commits), GC and event-loop stalls, from its process. */
  inProcess: InProcessSample | undefined
}

interface Tool {
  id: string
  label: string
  /** Untimed set-up, the timed run, untimed checks and clean-up; resolves the timed seconds. */
  run: (
    round: number,
    server: Server,
    watch: (toolPid?: number) => () => RunSample,
  ) => Promise<{ seconds: number; sample: RunSample; inProcess?: InProcessSample }>
}

const dir = await mkdtemp(join(tmpdir(), 'upkit-migrate-bench-'))
const credentials = { accessKeyId: 'bench', secretAccessKey: randomBytes(24).toString('base64url') }
interface Server {
  endpoint: string
  pid: number
  dir: string
}
/**
 * A fresh local S3 server per run, in its own process (as a real bucket would be: in ours it would compete with
 * the migration for one event loop) and its own folder. One server kept for the whole bench grew slower run after
 * run: it keeps every object's metadata in memory, and with 10,000 more per run its CPU for the same 10,000 PUTs
 * went from 7.7 s to 14-15 s by the second round, so later runs measured the server, not the tools.
 */
async function startServer(serverDir: string): Promise<Server & { stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    [
      // e.g. BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the server.
      ...(process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      fileURLToPath(new URL('../../local-s3/bin/upkit-local-s3.mjs', import.meta.url)),
      '--dir',
      serverDir,
    ],
    {
      env: {
        ...process.env,
        LOCAL_S3_ACCESS_KEY_ID: credentials.accessKeyId,
        LOCAL_S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8')
    child.stdout.once('data', (text: string) => resolve(text.trim()))
    child.once('exit', (code) => reject(new Error(`local S3 server exited (${code})`)))
  })
  servers.add(child)
  return {
    endpoint,
    pid: child.pid as number,
    dir: serverDir,
    async stop() {
      child.kill()
      await exited
      servers.delete(child)
      // Its objects go with it, so ten runs' copies never crowd the fixture out of the page cache.
      await rm(serverDir, { recursive: true, force: true })
    },
  }
}
const servers = new Set<ReturnType<typeof spawn>>()
const bucketStorage = (server: Server, bucket: string) =>
  createS3BucketStorage(s3Presets.local({ endpoint: server.endpoint, bucket, credentials }))

const migrationsDir = fileURLToPath(new URL('../../testing/prisma/migrations', import.meta.url))
const steps: { tool: Tool; runs: Run[] }[] = []
try {
  let started = performance.now()
  const fixture = await writeLegacyFixture({ dir, files, sizeOf, bigFiles: false, edgeCases: false })
  const written = (performance.now() - started) / 1000
  const expected = fixture.expected.migrated
  console.log(
    `fixture: ${expected} files, ${(fixture.expected.migratedBytes / 2 ** 20).toFixed(0)} MiB written in ${written.toFixed(1)} s` +
      ` (${process.env.DATABASE_URL ? 'PostgreSQL from DATABASE_URL' : 'PGlite, a fresh folder per round'})`,
  )
  if (settle) {
    // The fixture's ~1 GiB sits dirty in the page cache until the kernel writes it back (30 s later, or at
    // once past the dirty thresholds); a run timed meanwhile shares the disk and CPU with that writeback.
    const seconds = syncDisks()
    started = performance.now()
    const bytes = readAll(fixture.uploadsDir)
    console.log(
      `settled: sync ${seconds.toFixed(1)} s (the fixture's pending writeback, which a run timed right after the write would share the disk with), ` +
        `warm-up read of ${mib(bytes)} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    )
  } else {
    console.log('MIGRATE_BENCH_SETTLE=0: no sync or warm-up read; runs share the disk with pending writeback')
  }

  const fixtureMessage: UpkitRunSetup['fixture'] = { ...fixture, taskCompany: [...fixture.taskCompany] }
  const upkit: Tool = {
    id: 'upkit',
    label: `upkit migrate (concurrency ${concurrency})`,
    async run(round, server, watch) {
      const bucket = `upkit-${round}`
      const dataDir = join(dir, `db-${round}`)
      // A fresh process per run (see upkit-run.ts); tsx compiles it as it does this file.
      const child = fork(fileURLToPath(new URL('./upkit-run.ts', import.meta.url)), [], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      })
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
      const next = () =>
        new Promise<unknown>((resolve, reject) => {
          const onExit = (code: number | null) => reject(new Error(`upkit's run exited (${code}) early`))
          child.once('exit', onExit)
          child.once('message', (message) => {
            child.off('exit', onExit)
            resolve(message)
          })
        })
      try {
        const setup: UpkitRunSetup = {
          fixture: fixtureMessage,
          endpoint: server.endpoint,
          bucket,
          credentials,
          dataDir,
          databaseUrl: process.env.DATABASE_URL,
          migrationsDir,
          concurrency,
          batchSize,
        }
        const ready = next()
        child.send(setup)
        await ready
        // What the database set-up wrote is written back now, not during the run.
        if (settle) syncDisks()
        const stop = watch(child.pid as number)
        const done = next()
        child.send('go')
        const result = (await done) as UpkitRunResult
        const sample = stop()
        child.send('exit')
        if (result.failures.length > 0) throw new Error(`upkit failures: ${result.failures.join('; ')}`)
        if (result.migrated !== expected) throw new Error(`upkit migrated ${result.migrated} of ${expected}`)
        return { seconds: result.seconds, sample, inProcess: result }
      } finally {
        if (child.connected) child.disconnect()
        await exited
        await rm(dataDir, { recursive: true, force: true })
      }
    },
  }

  // The machine's AWS_CA_BUNDLE makes rclone refuse a plain-http endpoint; it is irrelevant here.
  const { AWS_CA_BUNDLE: _ignored, ...inherited } = process.env
  const rcloneEnv = (server: Server) => ({
    ...inherited,
    RCLONE_CONFIG_LOCAL_TYPE: 's3',
    RCLONE_CONFIG_LOCAL_PROVIDER: 'Other',
    RCLONE_CONFIG_LOCAL_ENDPOINT: server.endpoint,
    RCLONE_CONFIG_LOCAL_ACCESS_KEY_ID: credentials.accessKeyId,
    RCLONE_CONFIG_LOCAL_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    RCLONE_CONFIG_LOCAL_FORCE_PATH_STYLE: 'true',
    RCLONE_CONFIG_LOCAL_REGION: 'us-east-1',
  })
  const rcloneTool = (transfers: string): Tool => ({
    id: `rclone-${transfers}`,
    label: `rclone copy (${transfers === 'default' ? 'defaults' : `--transfers ${transfers}`})`,
    async run(round, server, watch) {
      const bucket = `rclone-${transfers}-${round}`
      await bucketStorage(server, bucket).ensureBucket()
      const flags = transfers === 'default' ? [] : ['--transfers', transfers]
      const stop = watch()
      const t = performance.now()
      // Spawned, not spawnSync: the probes' timer keeps sampling the page cache while rclone runs.
      const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>(
        (resolve, reject) => {
          const child = spawn('rclone', ['copy', fixture.uploadsDir, `local:${bucket}`, ...flags], {
            env: rcloneEnv(server),
            stdio: ['ignore', 'ignore', 'pipe'],
          })
          let text = ''
          child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
            text += chunk
          })
          child.once('error', reject)
          child.once('close', (exitCode) => resolve({ code: exitCode, stderr: text }))
        },
      )
      const seconds = (performance.now() - t) / 1000
      const sample = stop()
      if (code !== 0) throw new Error(`rclone failed (${code}): ${stderr}`)
      // One metadata file per object in the server's folder: rclone must have copied every file, as upkit did.
      const objects = readdirSync(join(server.dir, 'buckets', bucket, 'objects')).filter((f) =>
        f.endsWith('.json'),
      )
      if (objects.length !== expected) throw new Error(`rclone copied ${objects.length} of ${expected} files`)
      return { seconds, sample }
    },
  })
  const tools = [upkit, ...(process.env.RCLONE_TRANSFERS ?? 'default,8').split(',').map(rcloneTool)]
  // BENCH_ONLY=<tool ids>: only those, to chase one figure quickly (the goal then prints NOT MEASURED).
  const only = process.env.BENCH_ONLY?.split(',').filter(Boolean)
  for (const tool of only ? tools.filter((t) => only.includes(t.id)) : tools) steps.push({ tool, runs: [] })
  if (steps.length === 0)
    throw new Error(`BENCH_ONLY matches no tool; they are ${tools.map((t) => t.id).join(', ')}`)

  const line = (label: string, seconds: number) =>
    `${label.padEnd(34)} ${seconds.toFixed(2).padStart(6)} s ${(expected / seconds).toFixed(0).padStart(5)} files/s ${(fixture.expected.migratedBytes / seconds / 1e6).toFixed(1).padStart(6)} MB/s`
  for (let round = 1; round <= rounds; round++) {
    // Every other round runs the tools in reverse, so none always runs first (on the freshest machine) or
    // right after the same neighbour, and a drift over the round hits both sides alike.
    const order = round % 2 === 1 ? steps : [...steps].reverse()
    console.log(`\nround ${round}/${rounds}${round % 2 === 1 ? '' : ' (reverse order)'}`)
    for (const step of order) {
      const server = await startServer(join(dir, `s3-${step.tool.id}-${round}`))
      let measured: Awaited<ReturnType<Tool['run']>>
      let syncBefore = 0
      try {
        // What the previous run's server writes left dirty is written back now, not during the next run.
        syncBefore = settle ? syncDisks() : 0
        measured = await step.tool.run(
          round,
          server,
          (toolPid) =>
            watchRun({ serverPid: server.pid, ...(toolPid === undefined ? {} : { toolPid }) }).stop,
        )
      } finally {
        await server.stop()
      }
      const { seconds, sample, inProcess } = measured
      const noisy = sample.othersCpu / seconds > NOISY_SHARE
      step.runs.push({ seconds, sample, noisy, syncBefore, inProcess })
      const extra = [settle ? `sync before ${syncBefore.toFixed(1)} s` : '', noisy ? 'NOISY' : ''].filter(
        Boolean,
      )
      console.log(`  ${line(step.tool.label, seconds)}   ${extra.join(', ')}`)
      console.log(
        `      ${describeSample(sample, seconds, step.tool.id === 'upkit' ? 'upkit' : 'rclone', inProcess)}`,
      )
    }
  }

  console.log(
    `\n== Migration figures (${expected} files, ${(fixture.expected.migratedBytes / 2 ** 20).toFixed(0)} MiB; median of the quiet runs, of all when none was quiet) ==`,
  )
  for (const { tool, runs } of steps) {
    const quiet = runs.filter((r) => !r.noisy)
    const pool = quiet.length > 0 ? quiet : runs
    const seconds = pool.map((r) => r.seconds)
    const min = Math.min(...seconds)
    const max = Math.max(...seconds)
    console.log(
      `${line(tool.label, median(seconds))}   (${quiet.length}/${runs.length} quiet; range ${min.toFixed(1)}-${max.toFixed(1)} s, max/min ${(max / min).toFixed(2)})`,
    )
  }
  const upkitRuns = steps.find((s) => s.tool.id === 'upkit')?.runs ?? []
  if (upkitRuns.length > 0) {
    const share = (pick: (r: Run) => number) => median(upkitRuns.map((r) => pick(r) / r.seconds))
    console.log(
      `upkit's median run: ${Math.round(share((r) => r.sample.toolCpu) * 100)}% of a core in its process` +
        ` (database ${Math.round(share((r) => r.inProcess?.dbSeconds ?? 0) * 100)}% of the wall time, GC ${Math.round(share((r) => r.inProcess?.gcPause ?? 0) * 100)}%),` +
        ` local S3 ${Math.round(share((r) => r.sample.serverCpu) * 100)}% of a core, others ${Math.round(share((r) => r.sample.othersCpu) * 100)}%`,
    )
  }

  /**
   * The median of per-round ratios (rclone's time / upkit's time in the same round): a machine that is slower
   * for a while slows both sides of a round. Rounds where either side was noisy are left out, unless none was
   * quiet on both sides (then all count and the ratio is marked noisy).
   */
  console.log('\n== Goal (median over the rounds of rclone time / upkit time within each round) ==')
  console.log(`${'goal'.padEnd(50)}${'target'.padEnd(10)}${'measured'.padEnd(16)}result   per round`)
  for (const tool of tools.slice(1)) {
    const runs = steps.find((s) => s.tool === tool)?.runs ?? []
    const name = `upkit migrate vs ${tool.label}`.padEnd(50) + `>= ${GOAL.toFixed(2)}x`.padEnd(10)
    if (upkitRuns.length === 0 || runs.length === 0) {
      console.log(`${name}${'n/a'.padEnd(16)}NOT MEASURED (BENCH_ONLY)`)
      continue
    }
    const pairs = upkitRuns.map((u, i) => [u, runs[i] as Run] as const)
    const quiet = pairs.filter(([u, r]) => !u.noisy && !r.noisy)
    const pool = quiet.length > 0 ? quiet : pairs
    const value = median(pool.map(([u, r]) => r.seconds / u.seconds))
    const measured = `${value.toFixed(2)}x${quiet.length === 0 ? ' (NOISY)' : ''}`
    const perRound = pairs.map(
      ([u, r]) => `${(r.seconds / u.seconds).toFixed(2)}${u.noisy || r.noisy ? '*' : ''}`,
    )
    console.log(
      `${name}${measured.padEnd(16)}${(value >= GOAL ? 'MET' : 'MISSED').padEnd(9)}${perRound.join(' ')}`,
    )
  }
  console.log(
    '(* = a noisy round: other processes used more than a quarter of a core meanwhile; left out of the median while any round is quiet)',
  )
} finally {
  for (const server of servers) server.kill()
  await rm(dir, { recursive: true, force: true })
}
