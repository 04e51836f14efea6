import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { join, resolve } from 'node:path'
import { test } from '@playwright/test'
import { freePort, makeDataDir } from './demo-process'

const repoRoot = resolve(import.meta.dirname, '../..')
const exampleDir = join(repoRoot, 'examples/invoices')

export interface InvoicesProcess {
  readonly url: string
  output(): string
}

/**
 * The invoices example (examples/invoices) for the enclosing `test.describe`, started the way
 * `pnpm --filter @upkit/example-invoices start` starts it: its web app built, its server on a fresh PGlite
 * folder and an embedded local S3 server. Stopped, and its folder removed, after the describe's last test.
 */
export function invoicesPerDescribe(): () => InvoicesProcess {
  let data: ReturnType<typeof makeDataDir> | undefined
  let child: ChildProcess | undefined
  let app: InvoicesProcess | undefined
  test.beforeAll(async () => {
    // The global setup builds the demo only; the example is built here, by its own script.
    execFileSync('pnpm', ['--filter', '@upkit/example-invoices', 'build'], { cwd: repoRoot, stdio: 'ignore' })
    data = makeDataDir()
    const port = await freePort()
    const server = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts'], {
      cwd: exampleDir,
      env: { ...process.env, INVOICES_DATA_DIR: data.dir, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child = server
    let output = ''
    const collect = (chunk: Buffer) => {
      output += chunk.toString()
    }
    server.stdout?.on('data', collect)
    server.stderr?.on('data', collect)
    const url = `http://127.0.0.1:${port}`
    const deadline = Date.now() + 60_000
    for (;;) {
      if (server.exitCode !== null)
        throw new Error(`the invoices example exited with ${server.exitCode}:\n${output}`)
      const healthy = await fetch(`${url}/healthz`).then(
        (res) => res.status === 200,
        () => false,
      )
      if (healthy) break
      if (Date.now() > deadline)
        throw new Error(`the invoices example did not become healthy in 60 s:\n${output}`)
      await new Promise((r) => setTimeout(r, 200))
    }
    app = { url, output: () => output }
  })
  test.afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child?.once('exit', r))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child?.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    }
    data?.remove()
  })
  return () => {
    if (!app) throw new Error('The example starts in beforeAll; read it inside a test.')
    return app
  }
}
