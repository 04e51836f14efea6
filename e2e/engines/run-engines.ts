import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type DemoProcess, makeDataDir, startDemo } from '../support/demo-process'
import { coreJourneys, type Journey } from './core-journeys'
import type { Engine, EnginePage } from './driver'
import { launchFirefox } from './firefox-engine'
import { BODY_TEXT } from './in-page'
import { launchWebKit } from './webkit-engine'

/**
 * `pnpm --filter @upkit/e2e test:engines [firefox] [webkit]`: the core journeys in Firefox ESR and WebKitGTK,
 * each engine against its own demo. Exits non-zero when any journey fails; each failure leaves a screenshot, the
 * page's text and console, and the demo's output under test-results/engines/.
 */

const e2eDir = resolve(import.meta.dirname, '..')
const resultsDir = join(e2eDir, 'test-results/engines')
const launchers: Record<string, () => Promise<Engine>> = { firefox: launchFirefox, webkit: launchWebKit }
const only = process.argv.slice(2)
for (const name of only) {
  if (!(name in launchers)) {
    console.error(`unknown engine "${name}"; known: ${Object.keys(launchers).join(', ')}`)
    process.exit(2)
  }
}
const chosen = only.length > 0 ? only : Object.keys(launchers)
// UPKIT_JOURNEY=<part of a name> runs only the journeys whose name contains it (when chasing one failure).
const journeys = coreJourneys.filter((journey) => journey.name.includes(process.env.UPKIT_JOURNEY ?? ''))

const slug = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 60)

/** Everything that helps tell an engine bug from a journey bug, written beside the run and summed up here. */
async function report(page: EnginePage, journey: Journey, demo: DemoProcess, error: unknown) {
  const base = join(resultsDir, `${page.engine}-${slug(journey.name)}`)
  const screenshot = `${base}.png`
  const notes: string[] = []
  await page.screenshot(screenshot).then(
    () => notes.push(`screenshot: ${screenshot}`),
    (e: unknown) => notes.push(`no screenshot: ${String(e)}`),
  )
  const text = await page
    .evaluate<string>(BODY_TEXT)
    .catch((e: unknown) => `(page text unavailable: ${String(e)})`)
  const consoleLines = await page.consoleLines().catch(() => [])
  const details = [
    `journey: ${journey.name} (${page.engine})`,
    `error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    `── page text:\n${text}`,
    `── browser console:\n${consoleLines.join('\n') || '(nothing)'}`,
    `── demo output (last 4000 characters):\n${demo.output().slice(-4000)}`,
  ].join('\n')
  writeFileSync(`${base}.txt`, details)
  console.error(`${details}\n${notes.join('\n')}\nreport: ${base}.txt`)
}

async function runEngine(name: string): Promise<{ name: string; failed: string[] }> {
  const failed: string[] = []
  const data = makeDataDir()
  const started = Date.now()
  let engine: Engine | undefined
  let demo: DemoProcess | undefined
  try {
    demo = await startDemo({ dataDir: data.dir })
    engine = await (launchers[name] as () => Promise<Engine>)()
    for (const journey of journeys) {
      const page = await engine.open()
      const journeyStarted = Date.now()
      try {
        await journey.run(page, { demoUrl: demo.url, workDir: join(data.dir, 'files', slug(journey.name)) })
        console.log(`ok   ${name}: ${journey.name} (${Math.round((Date.now() - journeyStarted) / 1000)} s)`)
      } catch (error) {
        failed.push(journey.name)
        console.error(`FAIL ${name}: ${journey.name}`)
        await report(page, journey, demo, error)
      } finally {
        await page.close().catch((e: unknown) => console.error(`closing the ${name} page: ${String(e)}`))
      }
    }
  } catch (error) {
    failed.push(`start-up: ${error instanceof Error ? error.message : String(error)}`)
    console.error(`FAIL ${name}: could not start: ${error instanceof Error ? error.stack : String(error)}`)
  } finally {
    await engine?.close().catch((e: unknown) => console.error(`closing ${name}: ${String(e)}`))
    await demo?.stop()
    data.remove()
  }
  console.log(`── ${name}: ${Math.round((Date.now() - started) / 1000)} s`)
  return { name, failed }
}

rmSync(resultsDir, { recursive: true, force: true })
mkdirSync(resultsDir, { recursive: true })
// The demo serves the built web app, as `pnpm start` does.
execFileSync('pnpm', ['--filter', '@upkit/demo', 'build'], { cwd: resolve(e2eDir, '..'), stdio: 'inherit' })
const results = []
for (const name of chosen) results.push(await runEngine(name))
const failures = results.flatMap((r) => r.failed.map((journey) => `${r.name}: ${journey}`))
console.log(
  failures.length === 0
    ? `all ${journeys.length} journeys passed in ${chosen.join(', ')}`
    : `failed:\n${failures.map((f) => `  ${f}`).join('\n')}`,
)
process.exit(failures.length === 0 ? 0 : 1)
