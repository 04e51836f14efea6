// `pnpm bench`: upload throughput of the browser (the real uploader and dropzone) against curl and a plain Node
// client, all against one local S3 server in its own process. Reports; never fails on a missed goal.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, linkSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { planTransfer } from '@upkit/core'
import { type BucketStorage, createS3BucketStorage, s3Presets } from '@upkit/storage'
import { type Browser, chromium, type Page } from 'playwright-core'
import { assertChromium, chromiumArgs, chromiumPath } from '../../e2e/support/chromium'
import { type DemoProcess, freePort, makeDataDir, startDemo } from '../../e2e/support/demo-process'
import { type LocalS3Process, startLocalS3Process } from '../../e2e/support/local-s3-process'
import { type CpuSample, cpuDelta, findPid, findPidByEnv, snapshotCpu } from './cpu'
import { type DemoUploadResult, openTask, signIn, uploadWithDropzone } from './demo-upload'
import { type PageServer, startPageServer } from './page-server'
import { curlPut, plainMultipartUpload } from './plain-client'

const MiB = 1024 * 1024
/** MB/s in decimal megabytes, as network tools print them. */
const mbps = (bytes: number, seconds: number) => bytes / 1e6 / seconds
const BUCKET = 'upkit-bench'
const CONTENT_TYPE = 'application/octet-stream'
/** The uploader's default and the most HTTP/1.1 connections a browser opens per origin. */
const PART_CONCURRENCY = 6
/** The largest file the server still sends as one PUT (MULTIPART_THRESHOLD in @upkit/core). */
const THRESHOLD_MIB = 32
const API_BYTES_GOAL = 64 * 1024

function positiveIntEnv(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got '${raw}'`)
  return value
}

const sizeMiB = positiveIntEnv('BENCH_SIZE_MIB', 1024)
/** Default 3: the median of three shrugs off one run disturbed by a neighbour, and 1 GiB × 3 fits in ~2 min. */
const runs = positiveIntEnv('BENCH_RUNS', 3)
/** A run during which other processes kept more than this share of one core busy is flagged as noisy. */
const NOISY_SHARE = 0.25
const size = sizeMiB * MiB

function writeRandomFile(path: string, bytes: number): void {
  const fd = openSync(path, 'w')
  try {
    for (let written = 0; written < bytes; ) {
      const chunk = randomBytes(Math.min(16 * MiB, bytes - written))
      writeSync(fd, chunk)
      written += chunk.length
    }
  } finally {
    closeSync(fd)
  }
}

interface Measurement {
  readonly id: string
  readonly label: string
  readonly measures: string
  readonly bytes: number
  /** One entry per run. */
  readonly seconds: number[]
  readonly cpu: CpuSample[]
  readonly demo: DemoUploadResult[]
}

const measurements = new Map<string, Measurement>()
let noisyRuns = 0

function record(
  id: string,
  label: string,
  measures: string,
  bytes: number,
  seconds: number,
  cpu: CpuSample,
  demo?: DemoUploadResult,
): void {
  const m = measurements.get(id) ?? { id, label, measures, bytes, seconds: [], cpu: [], demo: [] }
  m.seconds.push(seconds)
  m.cpu.push(cpu)
  if (demo) m.demo.push(demo)
  measurements.set(id, m)
  const cpuText = Object.entries(cpu)
    .filter(([name, s]) => s >= 0.01 && name !== 'other')
    .map(([name, s]) => `${name} ${s.toFixed(2)} s (${Math.round((s / seconds) * 100)}%)`)
    .join(', ')
  console.log(
    `  ${label.padEnd(44)} ${seconds.toFixed(2).padStart(7)} s ${mbps(bytes, seconds).toFixed(0).padStart(5)} MB/s   cpu: ${cpuText}`,
  )
  const other = cpu.other ?? 0
  if (other / seconds > NOISY_SHARE) {
    noisyRuns++
    console.log(
      `    NOISY: processes outside this bench used ${other.toFixed(2)} s of CPU (${Math.round((other / seconds) * 100)}% of a core) meanwhile`,
    )
  }
}

/** The median run: the figure least moved by one noisy neighbour on a 2-core machine. */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

function medianRun(id: string): { mbps: number; index: number; m: Measurement } | null {
  const m = measurements.get(id)
  if (!m || m.seconds.length === 0) return null
  const mid = median(m.seconds)
  const index = m.seconds.reduce(
    (best, s, i) => (Math.abs(s - mid) < Math.abs((m.seconds[best] as number) - mid) ? i : best),
    0,
  )
  return { mbps: mbps(m.bytes, mid), index, m }
}

async function main(): Promise<void> {
  assertChromium()
  const repoRoot = resolve(import.meta.dirname, '../..')
  const plan = planTransfer(size)
  console.log(
    `upkit bench: ${sizeMiB} MiB file, ${runs} run(s); server plan: ${
      plan.type === 'multipart'
        ? `multipart, ${plan.partCount} parts of ${plan.partSize / MiB} MiB, ${PART_CONCURRENCY} in parallel`
        : 'single PUT'
    }`,
  )
  execFileSync('pnpm', ['--filter', '@upkit/demo', 'build'], { cwd: repoRoot, stdio: 'ignore' })

  const work = mkdtempSync(join(tmpdir(), 'upkit-bench-'))
  const data = makeDataDir()
  const cleanups: (() => Promise<void> | void)[] = [
    () => rmSync(work, { recursive: true, force: true }),
    () => data.remove(),
  ]
  let s3: LocalS3Process | undefined
  let demo: DemoProcess | undefined
  let pages: PageServer | undefined
  let browser: Browser | undefined
  try {
    const bigFile = join(work, 'big.bin')
    const thresholdFile = join(work, 'threshold.bin')
    const started = performance.now()
    writeRandomFile(bigFile, size)
    writeRandomFile(thresholdFile, THRESHOLD_MIB * MiB)
    console.log(`generated random files in ${((performance.now() - started) / 1000).toFixed(1)} s`)

    const credentials = { accessKeyId: 'upkit-bench', secretAccessKey: randomBytes(24).toString('hex') }
    const s3Dir = join(work, 's3')
    s3 = await startLocalS3Process({
      dir: s3Dir,
      port: await freePort(),
      ...credentials,
      bucket: BUCKET,
      corsOrigins: [],
    })
    const s3Pid = findPid(['upkit-local-s3', s3Dir])
    if (s3Pid === null) throw new Error('cannot find the local S3 process')
    const storage: BucketStorage = createS3BucketStorage(
      s3Presets.local({ endpoint: s3.endpoint, bucket: BUCKET, credentials }),
    )
    pages = await startPageServer(storage)
    const demoPort = await freePort()
    const demoOrigin = `http://127.0.0.1:${demoPort}`
    // The demo sets CORS only on its embedded bucket; with an external one that is the operator's job (ours).
    await storage.ensureBucket({
      cors: [
        {
          allowedOrigins: [demoOrigin, pages.origin],
          allowedMethods: ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'],
          allowedHeaders: ['*'],
          exposeHeaders: ['ETag'],
          maxAgeSeconds: 3600,
        },
      ],
    })
    demo = await startDemo({
      dataDir: data.dir,
      port: demoPort,
      env: {
        S3_PROVIDER: 'local',
        S3_ENDPOINT: s3.endpoint,
        S3_BUCKET: BUCKET,
        S3_ACCESS_KEY_ID: credentials.accessKeyId,
        S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        S3_FORCE_PATH_STYLE: 'true',
      },
    })
    const demoPid = findPidByEnv('UPKIT_DATA_DIR', data.dir)
    if (demoPid === null) throw new Error('cannot find the demo process')
    const procs = { api: demoPid, s3: s3Pid }
    console.log(
      `local S3 ${s3.endpoint} (pid ${s3Pid}), demo ${demo.url} (pid ${demoPid}), bench page ${pages.origin}`,
    )

    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true })
    const benchPage = await browser.newPage()
    await benchPage.goto(pages.origin)
    await benchPage.locator('body[data-ready="true"]').waitFor()
    await benchPage.getByLabel('File').setInputFiles(bigFile)
    const demoPage = await browser.newPage()
    await signIn(demoPage, demo.url, 'ada@acme.test')
    await openTask(demoPage)

    const clearBucket = async () => {
      const keys: string[] = []
      for await (const object of storage.list({ prefix: '' })) keys.push(object.key)
      if (keys.length > 0) await storage.deleteObjects(keys)
      // Written-back pages of the last upload must not slow the next one down.
      execFileSync('sync')
    }
    const measure = async <T>(run: () => Promise<T>): Promise<{ value: T; cpu: CpuSample }> => {
      await clearBucket()
      const before = snapshotCpu(procs)
      const value = await run()
      return { value, cpu: cpuDelta(before, snapshotCpu(procs)) }
    }
    const inPage = (page: Page, fn: 'viaUploader' | 'viaXhr' | 'viaFetch') =>
      page.evaluate(async (name) => {
        const bench = (window as unknown as { bench: Record<string, () => Promise<number>> }).bench
        const run = bench[name]
        if (!run) throw new Error(`no bench.${name}`)
        return (await run()) / 1000
      }, fn)

    let demoUploads = 0
    const dropzone = async (path: string, bytes: number) => {
      const name = `bench-${++demoUploads}-${bytes / MiB}mib.bin`
      const linked = join(work, name)
      linkSync(path, linked)
      try {
        return await uploadWithDropzone(demoPage, linked, name)
      } finally {
        rmSync(linked)
      }
    }

    for (let run = 1; run <= runs; run++) {
      console.log(`\nrun ${run}/${runs}`)
      let r: { value: number; cpu: CpuSample }
      r = await measure(() =>
        curlPut({ storage, key: 'bench/curl.bin', path: bigFile, size, contentType: CONTENT_TYPE }),
      )
      record('curl', 'single PUT: curl -T', 'curl -T <file> <presigned PUT URL>', size, r.value, r.cpu)
      r = await measure(() => inPage(benchPage, 'viaUploader'))
      record(
        'browser-single',
        'single PUT: browser, UpkitUploader',
        'UpkitUploader (XHR) on a page whose api plans one PUT; create/sign/confirm included',
        size,
        r.value,
        r.cpu,
      )
      r = await measure(() => inPage(benchPage, 'viaXhr'))
      record(
        'browser-xhr',
        'single PUT: browser, bare XHR',
        'one XMLHttpRequest PUT of the File',
        size,
        r.value,
        r.cpu,
      )
      r = await measure(() => inPage(benchPage, 'viaFetch'))
      record(
        'browser-fetch',
        'single PUT: browser, bare fetch',
        'one fetch PUT of the File',
        size,
        r.value,
        r.cpu,
      )

      if (plan.type === 'multipart') {
        const plain = await measure(() =>
          plainMultipartUpload({
            storage,
            key: 'bench/plain-multipart.bin',
            path: bigFile,
            size,
            contentType: CONTENT_TYPE,
            concurrency: PART_CONCURRENCY,
          }),
        )
        record(
          'plain-multipart',
          'multipart: plain Node client',
          `node:http, Create + ${plan.partCount} presigned parts (${PART_CONCURRENCY} at a time) + Complete`,
          size,
          plain.value.seconds,
          plain.cpu,
        )
        const browserMp = await measure(() => dropzone(bigFile, size))
        record(
          'browser-multipart',
          'multipart: browser, demo dropzone',
          'demo "Attach files" input -> attachment listed (tRPC create/sign/confirm, list refresh included)',
          size,
          browserMp.value.seconds,
          browserMp.cpu,
          browserMp.value,
        )
      }

      const thresholdBytes = THRESHOLD_MIB * MiB
      r = await measure(() =>
        curlPut({
          storage,
          key: 'bench/curl-threshold.bin',
          path: thresholdFile,
          size: thresholdBytes,
          contentType: CONTENT_TYPE,
        }),
      )
      record(
        'curl-threshold',
        `single PUT ${THRESHOLD_MIB} MiB: curl -T`,
        'curl at the threshold',
        thresholdBytes,
        r.value,
        r.cpu,
      )
      const small = await measure(() => dropzone(thresholdFile, thresholdBytes))
      record(
        'browser-threshold',
        `single PUT ${THRESHOLD_MIB} MiB: demo dropzone`,
        'demo dropzone, the largest file the server plans as one PUT; input -> listed',
        thresholdBytes,
        small.value.seconds,
        small.cpu,
        small.value,
      )
    }
    await clearBucket()
    report()
  } finally {
    await browser?.close().catch(() => {})
    await demo?.stop().catch(() => {})
    await s3?.kill().catch(() => {})
    await pages?.close().catch(() => {})
    for (const cleanup of cleanups.reverse()) await cleanup()
  }
}

function report(): void {
  if (noisyRuns > 0) {
    console.log(
      `\nWARNING: ${noisyRuns} measurement(s) ran while other processes were busy (see NOISY above); ` +
        'rerun on a quiet machine before trusting the figures.',
    )
  }
  console.log(`\n== What each figure measures (MB = 10^6 bytes; median of ${runs} run(s)) ==`)
  for (const m of measurements.values()) {
    const mid = medianRun(m.id)
    if (!mid) continue
    console.log(`${m.label.padEnd(40)} ${mid.mbps.toFixed(0).padStart(5)} MB/s  ${m.measures}`)
  }

  const demoDetails = (id: string) => {
    const mid = medianRun(id)
    const run = mid?.m.demo[mid.index]
    const cpu = mid?.m.cpu[mid.index]
    if (!mid || !run || !cpu) return
    const calls = Object.entries(run.calls)
      .map(([name, n]) => `${name}×${n}`)
      .join(', ')
    console.log(`\n${mid.m.label}:`)
    console.log(`  tRPC calls (${run.httpRequests} HTTP requests): ${calls}`)
    console.log(
      `  signing calls: ${(run.calls['uploads.sign'] ?? 0) + (run.calls['uploads.signParts'] ?? 0)} ` +
        `(uploads.sign ${run.calls['uploads.sign'] ?? 0}, uploads.signParts ${run.calls['uploads.signParts'] ?? 0})`,
    )
    console.log(
      `  API bytes: ${run.apiBodyBytes} B of payloads (request body or query + response body), ` +
        `${run.apiWireBytes} B with headers`,
    )
    console.log(
      `  API process CPU: ${(cpu.api ?? 0).toFixed(2)} s (demo server incl. its PGlite); ` +
        `local S3 ${(cpu.s3 ?? 0).toFixed(2)} s; Chromium ${(cpu.browser ?? 0).toFixed(2)} s; ` +
        `wall ${mid.m.seconds[mid.index]?.toFixed(2)} s`,
    )
  }
  demoDetails('browser-multipart')
  demoDetails('browser-threshold')

  const ratio = (a: string, b: string) => {
    const x = medianRun(a)
    const y = medianRun(b)
    return x && y ? x.mbps / y.mbps : null
  }
  const mp = medianRun('browser-multipart')
  const apiBytes = mp ? mp.m.demo[mp.index]?.apiBodyBytes : undefined
  const rows: [string, string, string, boolean | null][] = []
  const ratioRow = (goal: string, a: string, b: string) => {
    const value = ratio(a, b)
    rows.push([
      goal,
      '>= 0.90x',
      value === null ? 'n/a' : `${value.toFixed(2)}x`,
      value === null ? null : value >= 0.9,
    ])
  }
  ratioRow('browser single PUT / curl', 'browser-single', 'curl')
  ratioRow('browser multipart / plain client', 'browser-multipart', 'plain-multipart')
  rows.push([
    'API bytes during browser multipart upload',
    '< 64 KiB',
    apiBytes === undefined ? 'n/a' : `${(apiBytes / 1024).toFixed(1)} KiB`,
    apiBytes === undefined ? null : apiBytes < API_BYTES_GOAL,
  ])
  console.log('\n== Goals ==')
  console.log(`${'goal'.padEnd(44)}${'target'.padEnd(11)}${'measured'.padEnd(12)}result`)
  for (const [goal, target, value, met] of rows) {
    console.log(
      `${goal.padEnd(44)}${target.padEnd(11)}${value.padEnd(12)}${met === null ? 'NOT MEASURED' : met ? 'MET' : 'MISSED'}`,
    )
  }
  const diag = [
    ['bare XHR / curl', ratio('browser-xhr', 'curl')],
    ['bare fetch / curl', ratio('browser-fetch', 'curl')],
    ['UpkitUploader single / bare XHR', ratio('browser-single', 'browser-xhr')],
    [`demo dropzone / curl at ${THRESHOLD_MIB} MiB`, ratio('browser-threshold', 'curl-threshold')],
  ] as const
  console.log('\n== Diagnostics (not goals) ==')
  for (const [name, value] of diag)
    console.log(`${name.padEnd(44)}${value === null ? 'n/a' : `${value.toFixed(2)}x`}`)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
