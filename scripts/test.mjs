#!/usr/bin/env node
// `pnpm test`: every check the project has, in the order that fails fastest, against real services only.
// Prerequisites are checked first and reported plainly: a missing browser or database is an error, never a skip.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { delimiter, join } from 'node:path'

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const firefox = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr'
const webkitDriver = process.env.WEBKIT_DRIVER_PATH ?? '/usr/bin/WebKitWebDriver'
// The MiniBrowser of Debian's WebKitGTK library package, in its multiarch folder (as e2e/engines/webkit-engine.ts).
const miniBrowser =
  process.env.WEBKIT_MINIBROWSER_PATH ??
  (existsSync('/usr/lib') ? readdirSync('/usr/lib') : [])
    .filter((dir) => dir.endsWith('-linux-gnu'))
    .map((dir) => join('/usr/lib', dir, 'webkit2gtk-4.1/MiniBrowser'))
    .find((path) => existsSync(path))

// The same places packages/testing/src/postgres.ts looks: PATH, then every /usr/lib/postgresql/<version>/bin.
const POSTGRES_BINARIES = ['initdb', 'pg_ctl', 'postgres']
const hasAll = (dir) => POSTGRES_BINARIES.every((name) => existsSync(join(dir, name)))
const pathDirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean)
const onPath = (name) => pathDirs.some((dir) => existsSync(join(dir, name)))
const versionDirs = existsSync('/usr/lib/postgresql')
  ? readdirSync('/usr/lib/postgresql').map((version) => join('/usr/lib/postgresql', version, 'bin'))
  : []
const hasPostgres =
  POSTGRES_BINARIES.every((name) => pathDirs.some((dir) => existsSync(join(dir, name)))) ||
  versionDirs.some(hasAll)

const missing = []
if (!existsSync(chromium)) {
  missing.push(`Chromium at ${chromium} (apt-get install -y chromium, or set CHROMIUM_PATH)`)
}
if (!existsSync(firefox)) {
  missing.push(`Firefox ESR at ${firefox} (apt-get install -y firefox-esr, or set FIREFOX_PATH)`)
}
if (!existsSync(webkitDriver)) {
  missing.push(
    `WebKitWebDriver at ${webkitDriver} (apt-get install -y webkit2gtk-driver, or set WEBKIT_DRIVER_PATH)`,
  )
}
if (!miniBrowser || !existsSync(miniBrowser)) {
  missing.push(
    "WebKitGTK's MiniBrowser in /usr/lib/<arch>/webkit2gtk-4.1 (apt-get install -y libwebkit2gtk-4.1-0, or set WEBKIT_MINIBROWSER_PATH)",
  )
}
if (!onPath('xvfb-run') || !onPath('xauth')) {
  missing.push('xvfb-run and xauth, a display for WebKitGTK (apt-get install -y xvfb xauth)')
}
if (!hasPostgres) {
  missing.push('PostgreSQL server binaries: initdb, pg_ctl, postgres (apt-get install -y postgresql)')
}
if (missing.length > 0) {
  console.error(`pnpm test needs:\n${missing.map((m) => `  - ${m}`).join('\n')}`)
  process.exit(1)
}

const steps = [
  ['typecheck', ['pnpm', 'typecheck']],
  ['lint', ['pnpm', 'lint']],
  ['packages (build, pack, publint, attw)', ['pnpm', 'check:packages']],
  ['unit + integration (vitest, real PostgreSQL and local S3)', ['pnpm', 'test:unit']],
  [
    'unit + integration on Node 24 (pinned binary from the npm registry)',
    ['node', 'scripts/node-binary.mjs', '24', '--', 'node', 'node_modules/vitest/vitest.mjs', 'run'],
  ],
  [
    'demo starts on Node 24 (pnpm start, /healthz)',
    ['node', 'scripts/node-binary.mjs', '24', '--', 'node', 'scripts/demo-smoke.mjs'],
  ],
  ['e2e (Playwright, Chromium)', ['pnpm', 'test:e2e']],
  ['e2e (Firefox ESR, WebKitGTK): the core journeys', ['pnpm', '--filter', '@upkit/e2e', 'test:engines']],
]

const results = []
for (const [name, [command, ...args]] of steps) {
  console.log(`\n━━ ${name}: ${command} ${args.join(' ')}`)
  const started = Date.now()
  const { status, error } = spawnSync(command, args, { stdio: 'inherit' })
  if (error) console.error(`could not run ${command}: ${error.message}`)
  results.push({ name, ok: status === 0, seconds: Math.round((Date.now() - started) / 1000) })
  if (status !== 0) break
}

console.log('\n━━ summary')
for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name} (${r.seconds} s)`)
const failed = results.filter((r) => !r.ok).length
if (results.length < steps.length) {
  console.log(`skipped after the first failure: ${steps.length - results.length} step(s)`)
}
process.exit(failed > 0 || results.length < steps.length ? 1 : 0)
