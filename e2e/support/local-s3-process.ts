import { type ChildProcess, spawn } from 'node:child_process'
import { join, resolve } from 'node:path'

const repoRoot = resolve(import.meta.dirname, '../..')
const bin = join(repoRoot, 'packages/local-s3/bin/upkit-local-s3.mjs')

export interface LocalS3Process {
  readonly endpoint: string
  /** SIGKILL: an outage, not a shutdown (in-flight requests see their connections reset). */
  kill(): Promise<void>
}

export interface LocalS3ProcessOptions {
  readonly dir: string
  readonly port: number
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly bucket: string
  readonly corsOrigins: readonly string[]
}

/** The local S3 server as its own process, so a test can take storage down while the app stays up. */
export async function startLocalS3Process(options: LocalS3ProcessOptions): Promise<LocalS3Process> {
  const args = [
    bin,
    '--dir',
    options.dir,
    '--port',
    String(options.port),
    '--bucket',
    options.bucket,
    ...options.corsOrigins.flatMap((origin) => ['--cors-origin', origin]),
  ]
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: repoRoot,
    // The keys in the environment, not argv: a random secret may start with '-' (base64url), which the CLI reads
    // as an option (seen in CI), and argv is visible to every process on the machine.
    env: {
      ...process.env,
      LOCAL_S3_ACCESS_KEY_ID: options.accessKeyId,
      LOCAL_S3_SECRET_ACCESS_KEY: options.secretAccessKey,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()))
  const endpoint = await new Promise<string>((resolveEndpoint, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`local-s3 did not start within 30 s:\n${output}`)),
      30_000,
    )
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const line = /^(http:\/\/\S+)$/m.exec(output)?.[1]
      if (line) {
        clearTimeout(timer)
        resolveEndpoint(line)
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`local-s3 exited with ${code}:\n${output}`))
    })
  })
  return {
    endpoint,
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGKILL')
      await exited
    },
  }
}
