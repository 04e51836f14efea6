#!/usr/bin/env node
// `pnpm test`: every check the project has, in the order that fails fastest, against real services only.
// Prerequisites are checked first and reported plainly: a missing browser or database is an error, never a skip.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { delimiter, join } from 'node:path'

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

// The same places packages/testing/src/postgres.ts looks: PATH, then every /usr/lib/postgresql/<version>/bin.
const POSTGRES_BINARIES = ['initdb', 'pg_ctl', 'postgres']
const hasAll = (dir) => POSTGRES_BINARIES.every((name) => existsSync(join(dir, name)))
const pathDirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean)
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
