import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { S3Client } from '@aws-sdk/client-s3'
import { test } from '@playwright/test'

const repoRoot = resolve(import.meta.dirname, '../..')
const mainScript = join(repoRoot, 'apps/demo/src/server/main.ts')

export interface DemoProcess {
  readonly url: string
  readonly dataDir: string
  /** Everything the process printed so far (stdout and stderr). */
  output(): string
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>
}

/**
 * A port free right now, below Linux's ephemeral range (32768 and up): a port the kernel hands out for listen(0)
 * is also what it hands out as the local port of outgoing connections (the browser's, the database clients'),
 * so one could be taken between this check and the demo's listen. Falls back to listen(0) after 20 tries.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000)
    if (await canListen(port)) return port
  }
  return listenOnce(0)
}

function canListen(port: number): Promise<boolean> {
  return listenOnce(port).then(
    () => true,
    () => false,
  )
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      )
    })
  })
}

export function makeDataDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'upkit-e2e-'))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/**
 * An S3 client for the local bucket a demo embeds on `port` (`UPKIT_LOCAL_S3_PORT`), with the secret the demo
 * keeps in its data folder: to look into the bucket behind the app's back.
 */
export function embeddedBucketClient(dataDir: string, port: number): S3Client {
  return new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: {
      accessKeyId: 'upkit-local',
      secretAccessKey: readFileSync(join(dataDir, 'local-s3-secret'), 'utf8').trim(),
    },
  })
}

function spawnDemo(
  dataDir: string,
  port: number,
  env: Record<string, string> = {},
): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', mainScript], {
    cwd: join(repoRoot, 'apps/demo'),
    env: { ...process.env, UPKIT_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  return { child, output: () => output }
}

/** Starts the built demo as its own process (as `pnpm start` would) and waits until /healthz says 200. */
export async function startDemo(options: {
  dataDir: string
  port?: number
  env?: Record<string, string>
}): Promise<DemoProcess> {
  // A port picked here can still be taken before the demo listens: then it goes again on another (3 tries).
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDemoOn(options, options.port ?? (await freePort()))
    } catch (error) {
      const taken = error instanceof PortTakenError
      if (!taken || options.port !== undefined || attempt >= 3) throw error
    }
  }
}

class PortTakenError extends Error {}

async function startDemoOn(
  options: { dataDir: string; env?: Record<string, string> },
  port: number,
): Promise<DemoProcess> {
  const url = `http://127.0.0.1:${port}`
  const { child, output } = spawnDemo(options.dataDir, port, options.env)
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)))
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) {
      const message = `demo exited with ${child.exitCode}:\n${output()}`
      throw output().includes('EADDRINUSE') ? new PortTakenError(message) : new Error(message)
    }
    const healthy = await fetch(`${url}/healthz`).then(
      (res) => res.status === 200,
      () => false,
    )
    if (healthy) break
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`demo did not become healthy within 60 s:\n${output()}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  return {
    url,
    dataDir: options.dataDir,
    output,
    stop: async () => {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    },
  }
}

/**
 * One demo on a fresh data folder for the enclosing `test.describe`: started before its first test, stopped
 * (and the folder removed) after its last. Call it directly inside the describe; the getter returns the demo.
 */
export function demoPerDescribe(): () => DemoProcess {
  let data: ReturnType<typeof makeDataDir> | undefined
  let demo: DemoProcess | undefined
  test.beforeAll(async () => {
    data = makeDataDir()
    demo = await startDemo({ dataDir: data.dir })
  })
  test.afterAll(async () => {
    await demo?.stop()
    data?.remove()
  })
  return () => {
    if (!demo) throw new Error('The demo starts in beforeAll; read it inside a test.')
    return demo
  }
}

/** Runs the demo expecting it to fail at start-up; resolves its exit code and output. */
export async function runDemoExpectingFailure(options: { dataDir: string; env?: Record<string, string> }) {
  const { child, output } = spawnDemo(options.dataDir, await freePort(), options.env)
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  const code = await new Promise<number | null>((resolveExit) => child.once('exit', (c) => resolveExit(c)))
  clearTimeout(timer)
  return { code, output: output() }
}
