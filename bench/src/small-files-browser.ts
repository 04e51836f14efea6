// `pnpm --filter @upkit/bench small-files-browser` (also run by `pnpm bench`): issue #14's browser side. 200 x 100 KiB
// files dropped on the demo's dropzone (task attachments), timed until all are listed as confirmed, against a plain
// browser client PUTting the same files to URLs presigned before its clock starts, 6 at a time, in the same Chromium
// and to the same bucket; then the time to the first PUT byte of one file and the round trips before it. The demo
// runs on a throwaway PostgreSQL cluster. Reports; never fails on a missed goal.

import { execFile, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { type BucketStorage, createS3BucketStorage, s3Presets } from '@upkit/storage'
import { type Browser, type CDPSession, chromium, type Page } from 'playwright-core'
import { assertChromium, chromiumArgs, chromiumPath } from '../../e2e/support/chromium'
import { freePort, makeDataDir } from '../../e2e/support/demo-process'
import { startPostgres, type TestPostgres } from '../../packages/testing/src/postgres'
import { cpuDelta, findPid, snapshotCpu } from './cpu'
import { openTask, signIn } from './demo-upload'
import { positiveIntEnv } from './env'
import type { SignedPut } from './page/small-files-page'
import {
  type BrowserRun,
  bundleSmallFilesPage,
  dropOnDemo,
  type FirstByte,
  firstByte,
  plainUpload,
} from './small-files-browser-page'
import { buildReadableClient, openWithClient, profileRun } from './small-files-browser-profile'
import {
  NOISY_SHARE,
  printProfile,
  printReport,
  printRound,
  type Round,
  type Side,
} from './small-files-browser-report'
import { type Demo, startDemo, treeCpu } from './small-files-support'

/** Default 200 x 100 KiB: issue #14's drop, and the demo's task attachments take 200 at once (maxFiles). */
const FILES = positiveIntEnv('BENCH_BROWSER_FILES', 200)
const FILE_BYTES = positiveIntEnv('BENCH_BROWSER_KIB', 100) * 1024
/** Default 3 alternating rounds: the ratio is the median of per-round ratios, and a run stays under ~3 minutes. */
const ROUNDS = positiveIntEnv('BENCH_BROWSER_ROUNDS', 3)
/** Single-file trials for the time to first byte (median). */
const TTFB_TRIALS = positiveIntEnv('BENCH_BROWSER_TTFB_TRIALS', 5)
/**
 * The plain client's PUTs at once: the most HTTP/1.1 connections Chromium opens per origin, and the uploader's
 * shared limit per bucket, so neither side can go wider.
 */
const PLAIN_CONCURRENCY = 6
/** BENCH_BROWSER_PROFILE=1: one more drop, untimed, under V8's profiler, to say where the page's time goes. */
const PROFILE = process.env.BENCH_BROWSER_PROFILE === '1'
const OPEN_ATTEMPTS = 3
/** Tries per round while other processes keep the machine busy: bounded, so a busy box costs at most 2x the time. */
const NOISY_ATTEMPTS = positiveIntEnv('BENCH_BROWSER_NOISY_ATTEMPTS', 2)
const LOCAL_BUCKET = 'upkit'
const CONTENT_TYPE = 'application/octet-stream'
const USER = 'ada@acme.test'
const setup = { files: FILES, fileBytes: FILE_BYTES, plainConcurrency: PLAIN_CONCURRENCY }

const run = promisify(execFile)

async function main(): Promise<void> {
  assertChromium()
  const repoRoot = resolve(import.meta.dirname, '../..')
  console.log(
    `upkit small-files browser bench: ${FILES} x ${FILE_BYTES / 1024} KiB, ${ROUNDS} round(s) alternating, ` +
      `plain client ${PLAIN_CONCURRENCY} PUTs at a time; time to first byte: median of ${TTFB_TRIALS} single-file trials`,
  )
  // The demo serves its built client: build it so the drop runs today's @upkit/react.
  execFileSync('pnpm', ['--filter', '@upkit/demo', 'build'], { cwd: repoRoot, stdio: 'ignore' })
  const script = await bundleSmallFilesPage()

  const work = mkdtempSync(join(tmpdir(), 'upkit-bench-browser-'))
  const data = makeDataDir()
  let postgres: TestPostgres | undefined
  let demo: Demo | undefined
  let browser: Browser | undefined
  try {
    // Random bytes (nothing may shortcut on repeated content), written once; each run gets hard links with names
    // of its own, so both sides read the same bytes from the page cache.
    const payloads = Array.from({ length: FILES }, (_, i) => {
      const path = join(work, `payload-${i}.bin`)
      writeFileSync(path, randomBytes(FILE_BYTES))
      return path
    })
    const named = (prefix: string, count = FILES): string[] => {
      const dir = join(work, prefix)
      mkdirSync(dir)
      return Array.from({ length: count }, (_, i) => {
        const path = join(dir, `${prefix}${i}.bin`)
        linkSync(payloads[i % FILES] as string, path)
        return path
      })
    }

    postgres = await startPostgres()
    const databaseUrl = await postgres.createDatabaseUrl('upkit_small_files_browser')
    const pgPid = findPid(['postgres', `-p ${new URL(postgres.url).port}`])
    const s3Port = await freePort()
    demo = await startDemo({
      dataDir: data.dir,
      env: {
        UPKIT_LOCAL_S3_PORT: String(s3Port),
        DATABASE_URL: databaseUrl,
        SESSION_SECRET: randomBytes(24).toString('hex'),
      },
      profileDir: null,
    })
    const bucketOrigin = `http://127.0.0.1:${s3Port}`
    const storage: BucketStorage = createS3BucketStorage(
      s3Presets.local({
        endpoint: bucketOrigin,
        bucket: LOCAL_BUCKET,
        credentials: {
          accessKeyId: 'upkit-local',
          secretAccessKey: readFileSync(join(data.dir, 'local-s3-secret'), 'utf8').trim(),
        },
      }),
    )
    const demoOrigin = new URL(demo.url).origin
    console.log(
      `demo ${demo.url} (pid ${demo.pid}, local S3 worker on :${s3Port}), PostgreSQL ${new URL(postgres.url).host} ` +
        `(postmaster pid ${pgPid ?? '?'}), Chromium ${chromiumPath}`,
    )

    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true })
    const context = await browser.newContext()
    const demoPage = await context.newPage()
    const plainPage = await context.newPage()
    const cdpOf = async (page: Page): Promise<CDPSession> => {
      const cdp = await context.newCDPSession(page)
      await cdp.send('Performance.enable')
      return cdp
    }
    const demoCdp = await cdpOf(demoPage)
    const plainCdp = await cdpOf(plainPage)
    await signIn(demoPage, demo.url, USER)
    await openTask(demoPage)

    /** A fresh task page: its list and uploader start empty every run, as after a person opens the task. */
    const openDemo = async () => {
      // The demo serves apps/demo/dist, which anyone's `vite build` in this checkout empties and refills: a reload
      // in that window gets no app, so it is tried again.
      for (let attempt = 1; ; attempt++) {
        await demoPage.reload()
        try {
          await demoPage.getByRole('heading', { name: 'Attachments' }).waitFor()
          break
        } catch (error) {
          if (attempt === OPEN_ATTEMPTS) throw error
          console.log(`    (the task page did not load, attempt ${attempt}/${OPEN_ATTEMPTS}; reloading)`)
        }
      }
      // The route's rules arrived: a drop now goes straight to createMany, as for a person who looked first.
      await demoPage.getByText(/ at a time$/).waitFor()
      await demoPage.evaluate(script)
    }
    /** A blank document on the demo's origin, which the bucket's CORS rules already allow. */
    const openPlain = async () => {
      await plainPage.goto(`${demo?.url}/healthz`)
      await plainPage.evaluate(script)
    }
    const presign = (paths: readonly string[], prefix: string): Promise<SignedPut[]> =>
      Promise.all(
        paths.map(async (_, i) => {
          const signed = await storage.presignPut({
            key: `bench/${prefix}${i}`,
            contentType: CONTENT_TYPE,
            contentLength: FILE_BYTES,
            expiresInSeconds: 3600,
          })
          return { url: signed.url, headers: signed.headers }
        }),
      )
    /**
     * Between runs: no objects or attachment rows from the last one (the local S3 keeps every object's metadata in
     * memory, and a longer list renders slower), the person's `create` counter cleared (upkit's default allows 300
     * a minute; this bench measures throughput, not the limit) and written-back pages flushed.
     */
    const reset = async () => {
      const keys: string[] = []
      for await (const object of storage.list({ prefix: '' })) keys.push(object.key)
      if (keys.length > 0) await storage.deleteObjects(keys)
      await run('psql', [
        databaseUrl,
        '-qAtc',
        `DELETE FROM "upkit_uploads"; DELETE FROM "upkit_rate_limits" WHERE "key" LIKE 'upkit:create:%'`,
      ])
      execFileSync('sync')
    }
    const measure = async (go: () => Promise<BrowserRun>): Promise<Side> => {
      const before = snapshotCpu({ api: demo?.pid as number })
      const pgBefore = treeCpu(pgPid)
      const result = await go()
      const pgCpu = treeCpu(pgPid) - pgBefore
      const cpu = cpuDelta(before, snapshotCpu({ api: demo?.pid as number }))
      // PostgreSQL is no child of the bench (pg_ctl daemonizes it): take its share out of `other`.
      cpu.other = Math.max(0, (cpu.other ?? 0) - pgCpu)
      return { run: result, cpu, pgCpu, noisy: cpu.other / result.seconds > NOISY_SHARE }
    }
    /** A run counts only if it did its job: every file in the bucket at its size and, for upkit, confirmed. */
    const checkLanded = async (side: 'upkit' | 'plain', count: number) => {
      let objects = 0
      for await (const object of storage.list({ prefix: '' })) {
        if (object.size !== FILE_BYTES) throw new Error(`${side}: ${object.key} has ${object.size} bytes`)
        objects++
      }
      if (objects !== count) throw new Error(`${side}: ${objects} objects in the bucket, expected ${count}`)
      if (side === 'plain') return
      const { stdout } = await run('psql', [
        databaseUrl,
        '-qAtc',
        `SELECT count(*) FROM "upkit_uploads" WHERE "status" = 'CONFIRMED' AND "size" = ${FILE_BYTES}`,
      ])
      if (Number(stdout.trim()) !== count)
        throw new Error(`upkit: ${stdout.trim()} confirmed uploads in the database, expected ${count}`)
    }

    const rounds: Round[] = []
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternating: neither side always runs first (cold) or second (after the other's writes).
      const order = round % 2 === 1 ? (['upkit', 'plain'] as const) : (['plain', 'upkit'] as const)
      for (let attempt = 1; ; attempt++) {
        const got: Partial<Record<'upkit' | 'plain', Side>> = {}
        for (const side of order) {
          await reset()
          if (side === 'upkit') {
            const prefix = `d${round}.${attempt}-`
            const paths = named(prefix)
            await openDemo()
            got.upkit = await measure(() => dropOnDemo(demoPage, demoCdp, paths, prefix))
            await checkLanded('upkit', FILES)
          } else {
            const prefix = `p${round}.${attempt}-`
            const paths = named(prefix)
            const signed = await presign(paths, prefix)
            await openPlain()
            got.plain = await measure(() =>
              plainUpload(plainPage, plainCdp, paths, signed, PLAIN_CONCURRENCY),
            )
            await checkLanded('plain', FILES)
          }
        }
        const r: Round = { order, upkit: got.upkit as Side, plain: got.plain as Side }
        printRound(setup, r, round, ROUNDS)
        const noisy = r.upkit.noisy || r.plain.noisy
        // On a shared box someone else's job can take a core for a while: the round is measured again, a bounded
        // number of times, and the last attempt is kept either way (the report leaves noisy rounds out if it can).
        if (!noisy || attempt === NOISY_ATTEMPTS) {
          rounds.push(r)
          break
        }
        console.log(`    NOISY: measuring round ${round} again (attempt ${attempt + 1}/${NOISY_ATTEMPTS})`)
      }
    }

    if (PROFILE) {
      await reset()
      const client = buildReadableClient(repoRoot)
      const page = await context.newPage()
      try {
        const cdp = await cdpOf(page)
        const bundle = await openWithClient(page, cdp, demoPage.url(), client)
        await page.evaluate(script)
        const paths = named('x-')
        const { hotSpots, totalMs } = await profileRun(cdp, bundle, () => dropOnDemo(page, cdp, paths, 'x-'))
        printProfile(hotSpots, totalMs)
      } finally {
        await page.close()
        rmSync(client, { recursive: true, force: true })
      }
    }

    // Time to first byte: one file at a time, each trial waiting until the file is listed (or, plain, PUT).
    await reset()
    await openDemo()
    const origins = { api: demoOrigin, bucket: bucketOrigin }
    const upkitTrials: FirstByte[] = []
    for (let trial = 1; trial <= TTFB_TRIALS; trial++) {
      const paths = named(`t${trial}-`, 1)
      // The list's background refetch after the last trial's file (300 ms after files stop arriving) is over.
      if (trial > 1) await demoPage.waitForTimeout(1000)
      upkitTrials.push(
        await firstByte(demoCdp, origins, () => dropOnDemo(demoPage, demoCdp, paths, `t${trial}-`)),
      )
    }
    const plainTrials: FirstByte[] = []
    for (let trial = 1; trial <= TTFB_TRIALS; trial++) {
      const paths = named(`q${trial}-`, 1)
      const signed = await presign(paths, `q${trial}-`)
      await openPlain()
      plainTrials.push(
        await firstByte(plainCdp, origins, () => plainUpload(plainPage, plainCdp, paths, signed, 1)),
      )
    }
    await reset()
    printReport(setup, rounds, upkitTrials, plainTrials)
  } catch (error) {
    if (demo) console.error(`demo output (last 3,000 characters):\n${demo.output().slice(-3000)}`)
    throw error
  } finally {
    await browser?.close().catch(() => {})
    await demo?.stop().catch(() => {})
    await postgres?.stop().catch(() => {})
    data.remove()
    rmSync(work, { recursive: true, force: true })
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
