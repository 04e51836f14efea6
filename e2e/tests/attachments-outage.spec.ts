import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from '@playwright/test'
import { freePort, makeDataDir, startDemo } from '../support/demo-process'
import { openTask, sha256, signIn, throttleUploads } from '../support/journeys'
import { type LocalS3Process, startLocalS3Process } from '../support/local-s3-process'

const MiB = 1024 * 1024

test('a 10 s storage outage during a multipart upload ends in a complete, byte-identical file', async ({
  page,
}) => {
  test.setTimeout(180_000)
  const data = makeDataDir()
  const demoPort = await freePort()
  const s3Options = {
    dir: join(data.dir, 's3'),
    port: await freePort(),
    accessKeyId: 'upkit-outage',
    secretAccessKey: randomBytes(24).toString('base64url'),
    bucket: 'upkit',
    corsOrigins: [`http://127.0.0.1:${demoPort}`],
  }
  let s3: LocalS3Process = await startLocalS3Process(s3Options)
  const demo = await startDemo({
    dataDir: data.dir,
    port: demoPort,
    env: {
      S3_PROVIDER: 'local',
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: s3Options.bucket,
      S3_ACCESS_KEY_ID: s3Options.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3Options.secretAccessKey,
    },
  })
  try {
    const bytes = randomBytes(96 * MiB)
    const file = join(data.dir, 'survives-outage.bin')
    writeFileSync(file, bytes)

    await signIn(page, demo.url, 'ada@acme.test')
    await openTask(page, 'Ship the new logo')

    // Throttled so the outage lands mid-upload: 96 MiB at 8 MiB/s is ~12 s of parts.
    await throttleUploads(page, 8 * MiB)
    await page.getByLabel('Attach files').setInputFiles(file)
    const progress = page.getByRole('progressbar', { name: 'Upload of survives-outage.bin' })
    await expect
      .poll(async () => Number(await progress.getAttribute('value')), { timeout: 30_000 })
      .toBeGreaterThan(15)

    await s3.kill()
    await expect(page.getByText('Connection lost, retrying…')).toBeVisible({ timeout: 15_000 })
    await page.waitForTimeout(10_000)
    s3 = await startLocalS3Process(s3Options)

    const list = page.getByRole('list', { name: 'Attachments' })
    await expect(list.getByRole('link', { name: 'Download survives-outage.bin' })).toBeVisible({
      timeout: 90_000,
    })
    await expect(page.getByRole('alert')).toHaveCount(0)
    const download = page.waitForEvent('download')
    await list.getByRole('link', { name: 'Download survives-outage.bin' }).click()
    expect(sha256(readFileSync(await (await download).path()))).toBe(sha256(bytes))
  } finally {
    await demo.stop()
    await s3.kill()
    data.remove()
  }
})
