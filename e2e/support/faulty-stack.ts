import { createHash, randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type MultipartUpload,
  S3Client,
} from '@aws-sdk/client-s3'
import {
  type FaultProxy,
  type FaultRate,
  type FaultScript,
  startFaultProxy,
} from '@upkit/testing/fault-proxy'
import { startPostgres, type TestPostgres } from '@upkit/testing/postgres'
import { type DemoProcess, freePort, makeDataDir, startDemo } from './demo-process'
import { type LocalS3Process, startLocalS3Process } from './local-s3-process'

const BUCKET = 'upkit'

/**
 * The demo on its own throwaway PostgreSQL cluster, its bucket (local S3 as a separate process) behind a fault
 * proxy: every bucket request of the browser and of the server goes through the proxy, a test's own look into
 * the bucket (`bucketObjects`, `openMultipartUploads`) goes straight to it.
 */
export interface FaultyStack {
  readonly demo: DemoProcess
  readonly proxy: FaultProxy
  readonly postgres: TestPostgres
  readonly dataDir: string
  /** Keys and sizes of every object in the bucket. */
  bucketObjects(): Promise<{ key: string; size: number }[]>
  openMultipartUploads(): Promise<MultipartUpload[]>
  /** Resolves once a whole sweep of the demo's sweeper ran after the call (its requests pass the proxy). */
  sweepOnce(): Promise<void>
  stop(): Promise<void>
}

export async function startFaultyStack(options: {
  rate: number | FaultRate
  /** Faults placed on purpose (see `FaultScript`); the demo's start-up sends no upload requests for it to hit. */
  script?: FaultScript
}): Promise<FaultyStack> {
  const data = makeDataDir()
  const demoPort = await freePort()
  const credentials = { accessKeyId: 'upkit-faults', secretAccessKey: randomBytes(24).toString('base64url') }
  const cleanups: (() => Promise<void>)[] = [async () => data.remove()]
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
  }
  try {
    const s3: LocalS3Process = await startLocalS3Process({
      dir: join(data.dir, 's3'),
      port: await freePort(),
      ...credentials,
      bucket: BUCKET,
      corsOrigins: [`http://127.0.0.1:${demoPort}`],
    })
    cleanups.push(() => s3.kill())
    // A seed from the environment repeats a failing run's draws.
    const seed = process.env.UPKIT_FAULT_SEED ? Number(process.env.UPKIT_FAULT_SEED) : undefined
    // No faults until the demo is up: its start-up is not under test.
    const proxy = await startFaultProxy({
      target: s3.endpoint,
      rate: 0,
      ...(seed === undefined ? {} : { seed }),
      ...(options.script === undefined ? {} : { script: options.script }),
    })
    cleanups.push(() => proxy.close())
    const postgres = await startPostgres()
    cleanups.push(() => postgres.stop())
    const demo = await startDemo({
      dataDir: data.dir,
      port: demoPort,
      env: {
        S3_PROVIDER: 'local',
        S3_ENDPOINT: proxy.endpoint,
        S3_BUCKET: BUCKET,
        S3_ACCESS_KEY_ID: credentials.accessKeyId,
        S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        DATABASE_URL: await postgres.createDatabaseUrl(),
        SESSION_SECRET: randomBytes(32).toString('base64url'),
        // Sweeps every few seconds, so a test can wait for one instead of the default 15 minutes.
        UPKIT_SWEEP_INTERVAL_SECONDS: '3',
      },
    })
    cleanups.push(() => demo.stop())
    proxy.setRate(options.rate)

    const client = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials,
    })
    cleanups.push(async () => client.destroy())
    return {
      demo,
      proxy,
      postgres,
      dataDir: data.dir,
      bucketObjects: async () => {
        const objects: { key: string; size: number }[] = []
        let token: string | undefined
        do {
          const page = await client.send(
            new ListObjectsV2Command({ Bucket: BUCKET, ...(token ? { ContinuationToken: token } : {}) }),
          )
          for (const object of page.Contents ?? [])
            objects.push({ key: object.Key ?? '', size: object.Size ?? 0 })
          token = page.NextContinuationToken
        } while (token)
        return objects
      },
      openMultipartUploads: async () =>
        (await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? [],
      sweepOnce: async () => {
        // A sweep lists the bucket first and its open multipart uploads last: two of those last requests after
        // now means at least one sweep ran from start to end.
        const startedWith = proxy.counts().requests.listMultipartUploads ?? 0
        const deadline = Date.now() + 60_000
        while ((proxy.counts().requests.listMultipartUploads ?? 0) < startedWith + 2) {
          if (Date.now() > deadline) throw new Error(`no sweep within 60 s:\n${demo.output().slice(-4000)}`)
          await new Promise((resolve) => setTimeout(resolve, 250))
        }
      },
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}

export interface TestFile {
  readonly name: string
  readonly path: string
  readonly size: number
  readonly sha256: string
}

/** Writes random bytes to `name` in `dir` (random, so no two files and no two parts look alike). */
export function writeTestFile(dir: string, name: string, size: number): TestFile {
  const bytes = randomBytes(size)
  const path = join(dir, name)
  writeFileSync(path, bytes)
  return { name, path, size, sha256: createHash('sha256').update(bytes).digest('hex') }
}
