import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, startDemo } from '../support/demo-process'
import { type LocalS3Process, startLocalS3Process } from '../support/local-s3-process'
import { startThrottledProxy } from '../support/throttled-proxy'

const MiB = 1024 * 1024

export interface OutageDemo {
  readonly url: string
  /** SIGKILLs the storage server: connections in flight are reset, new ones refused. */
  stopStorage(): Promise<void>
  /** Starts it again on the same port and folder, with what it stored before. */
  startStorage(): Promise<void>
}

/**
 * A demo whose bucket is a local S3 server in its own process, reached through a proxy capping uploads at 8 MiB/s
 * (96 MiB take ~12 s, so storage can go down mid-upload in any engine), as attachments-outage.spec.ts sets up
 * with Chromium's network emulation. Everything is stopped and removed after `run`, whatever it did.
 */
export async function withOutageDemo(dir: string, run: (outage: OutageDemo) => Promise<void>): Promise<void> {
  mkdirSync(join(dir, 'demo'), { recursive: true })
  const demoPort = await freePort()
  const s3Options = {
    dir: join(dir, 's3'),
    port: await freePort(),
    accessKeyId: 'upkit-outage',
    secretAccessKey: randomBytes(24).toString('base64url'),
    bucket: 'upkit',
    corsOrigins: [`http://127.0.0.1:${demoPort}`],
  }
  let s3: LocalS3Process | undefined = await startLocalS3Process(s3Options)
  const proxy = await startThrottledProxy({
    target: { host: '127.0.0.1', port: s3Options.port },
    bytesPerSecond: 8 * MiB,
  })
  try {
    const demo = await startDemo({
      dataDir: join(dir, 'demo'),
      port: demoPort,
      env: {
        S3_PROVIDER: 'local',
        S3_ENDPOINT: proxy.url,
        S3_BUCKET: s3Options.bucket,
        S3_ACCESS_KEY_ID: s3Options.accessKeyId,
        S3_SECRET_ACCESS_KEY: s3Options.secretAccessKey,
      },
    })
    try {
      await run({
        url: demo.url,
        stopStorage: async () => {
          await s3?.kill()
          s3 = undefined
        },
        startStorage: async () => {
          s3 = await startLocalS3Process(s3Options)
        },
      })
    } catch (error) {
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}\n── outage demo output (last 3000 characters):\n${demo.output().slice(-3000)}`,
        { cause: error },
      )
    } finally {
      await demo.stop()
    }
  } finally {
    await proxy.close()
    await s3?.kill()
  }
}
