import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3'
import { expect, test } from 'vitest'
import { parseCli } from './cli'

test('flags win over env, env fills the rest, --cors-origin gives every bucket a browser-upload rule', () => {
  const options = parseCli(
    ['--bucket', 'one', '--bucket', 'two', '--cors-origin', 'http://localhost:5173', '--port', '9000'],
    {
      LOCAL_S3_ACCESS_KEY_ID: 'env-key',
      LOCAL_S3_SECRET_ACCESS_KEY: 'env-secret',
      LOCAL_S3_PORT: '1234',
      LOCAL_S3_DIR: '/data/s3',
    },
  )
  expect(options).toMatchObject({
    dir: '/data/s3',
    port: 9000,
    accessKeyId: 'env-key',
    secretAccessKey: 'env-secret',
  })
  if (options === 'help') throw new Error('unexpected help')
  expect(options.buckets?.map((b) => b.name)).toEqual(['one', 'two'])
  expect(options.buckets?.[0]?.cors?.[0]).toMatchObject({
    allowedOrigins: ['http://localhost:5173'],
    allowedMethods: expect.arrayContaining(['PUT', 'POST', 'GET']),
    exposeHeaders: ['ETag'],
  })
  expect(() => parseCli([], {})).toThrow(/access-key-id/)
})

test('--conditional-writes picks the lenient mode (env LOCAL_S3_CONDITIONAL_WRITES), anything else is refused', () => {
  const env = { LOCAL_S3_ACCESS_KEY_ID: 'k', LOCAL_S3_SECRET_ACCESS_KEY: 's' }
  expect(parseCli([], env)).not.toHaveProperty('conditionalWrites')
  expect(parseCli(['--conditional-writes', 'ignore'], env)).toMatchObject({ conditionalWrites: 'ignore' })
  expect(parseCli([], { ...env, LOCAL_S3_CONDITIONAL_WRITES: 'ignore' })).toMatchObject({
    conditionalWrites: 'ignore',
  })
  expect(() => parseCli(['--conditional-writes', 'maybe'], env)).toThrow(/conditional-writes/)
})

test('the bin starts a server and prints its endpoint', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'local-s3-cli-'))
  const bin = fileURLToPath(new URL('../bin/upkit-local-s3.mjs', import.meta.url))
  const child = spawn(process.execPath, [bin, '--dir', dir, '--bucket', 'cli-bucket', '--port', '0'], {
    env: { ...process.env, LOCAL_S3_ACCESS_KEY_ID: 'cli-key', LOCAL_S3_SECRET_ACCESS_KEY: 'cli-secret' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  try {
    const first = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next()
    const endpoint = String(first.value)
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const client = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'cli-key', secretAccessKey: 'cli-secret' },
    })
    const { Buckets } = await client.send(new ListBucketsCommand({}))
    expect(Buckets?.map((b) => b.Name)).toEqual(['cli-bucket'])
    client.destroy()
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
    await rm(dir, { recursive: true, force: true })
  }
})
