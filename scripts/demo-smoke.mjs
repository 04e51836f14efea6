#!/usr/bin/env node
// The README's `pnpm start`, as a check: the demo builds, prints `upkit demo ready` and /healthz answers 200, on a
// fresh data folder and a free port; then it is stopped. `pnpm test` runs it on Node 24 through node-binary.mjs, so
// the Node line the packages are meant for starts the app itself, not only the unit tests.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const READY = 'upkit demo ready'
const TIMEOUT_MS = 90_000

const freePort = () =>
  new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolvePort(port))
    })
  })

const port = await freePort()
const dataDir = mkdtempSync(join(tmpdir(), 'upkit-demo-smoke-'))
const started = Date.now()
console.log(`demo-smoke: pnpm start on Node ${process.version}, port ${port}, data in ${dataDir}`)

// Embedded defaults as in the README's first command, whatever a developer's shell exports for a real deployment.
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) =>
      !name.startsWith('S3_') &&
      !['DATABASE_URL', 'SESSION_SECRET', 'PUBLIC_URL', 'UPKIT_LOCAL_S3_PORT'].includes(name),
  ),
)

// Its own process group: pnpm → sh → tsx → node is four processes deep, and all of them must go at the end.
const child = spawn('pnpm', ['start'], {
  env: { ...env, PORT: String(port), HOST: '127.0.0.1', UPKIT_DATA_DIR: dataDir },
  stdio: ['ignore', 'pipe', 'pipe'],
  detached: true,
})
let output = ''
child.stdout.on('data', (chunk) => {
  output += chunk
})
child.stderr.on('data', (chunk) => {
  output += chunk
})
const exited = new Promise((resolveExit) => child.once('exit', (code, signal) => resolveExit(code ?? signal)))

const signalGroup = (signal) => {
  try {
    process.kill(-child.pid, signal)
    return true
  } catch {
    return false // the group is gone
  }
}

// pnpm exits before the server has closed PGlite, which still writes to the data folder: wait for the whole group.
const groupGone = async (ms) => {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (!signalGroup(0)) return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return false
}

const check = async () => {
  const deadline = Date.now() + TIMEOUT_MS
  while (!output.includes(READY)) {
    if (child.exitCode !== null || child.signalCode !== null) {
      return `pnpm start exited (${child.exitCode ?? child.signalCode}) before printing "${READY}"`
    }
    if (Date.now() > deadline) return `no "${READY}" within ${TIMEOUT_MS / 1000} s`
    await new Promise((r) => setTimeout(r, 200))
  }
  const response = await fetch(`http://127.0.0.1:${port}/healthz`).catch((error) => error)
  if (response instanceof Error) return `GET /healthz failed: ${response.message}`
  const body = await response.text()
  return response.status === 200 ? undefined : `GET /healthz answered ${response.status}: ${body}`
}

let failure
try {
  failure = await check()
} finally {
  signalGroup('SIGTERM')
  if (!(await groupGone(10_000))) {
    signalGroup('SIGKILL')
    await groupGone(5_000)
  }
  await exited
  rmSync(dataDir, { recursive: true, force: true })
}

if (failure) {
  console.error(`demo-smoke: ${failure} (Node ${process.version})\n--- output of pnpm start ---\n${output}`)
  process.exit(1)
}
const seconds = ((Date.now() - started) / 1000).toFixed(1)
console.log(`demo-smoke: ready and /healthz 200 on Node ${process.version} in ${seconds} s, stopped`)
