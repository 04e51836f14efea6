import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import { expect, test } from '@playwright/test'
import { startPostgres } from '@upkit/testing/postgres'
import { type DemoProcess, freePort, makeDataDir, startDemo } from '../support/demo-process'
import { drawPng, naturalWidth, openTask, pasteImage, sha256, signIn } from '../support/journeys'
import { startLocalS3Process } from '../support/local-s3-process'

const TASK = 'Quarterly report'
const FILE_REFERENCE = /!\[diagram\.png\]\((\/files\/[0-9a-f-]{36})\)/

/**
 * The incident in the data-persistence guide, replayed: PostgreSQL and the bucket run as their own processes, the
 * app keeps only its container's local disk. A deploy stops the app, deletes that disk (./uploads included) and
 * starts a fresh copy. Every file must still be shown and downloadable, byte-identical.
 */
test('logo, attachment and comment image survive a redeploy that wipes the app disk', async ({ browser }) => {
  test.setTimeout(240_000)
  const scratch = makeDataDir()
  const postgres = await startPostgres()
  const credentials = {
    accessKeyId: 'upkit-redeploy',
    secretAccessKey: randomBytes(24).toString('base64url'),
  }
  const appPort = await freePort()
  const appOrigin = `http://127.0.0.1:${appPort}`
  const bucket = await startLocalS3Process({
    dir: join(scratch.dir, 'bucket'),
    port: await freePort(),
    ...credentials,
    bucket: 'uploads',
    corsOrigins: [appOrigin],
  })
  const s3 = new S3Client({
    endpoint: bucket.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
  })
  const container = join(scratch.dir, 'container')
  const env = {
    DATABASE_URL: await postgres.createDatabaseUrl('app'),
    SESSION_SECRET: randomBytes(32).toString('base64url'),
    S3_PROVIDER: 'local',
    S3_ENDPOINT: bucket.endpoint,
    S3_BUCKET: 'uploads',
    S3_ACCESS_KEY_ID: credentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  }
  const deploy = () => {
    // A new container: an empty local disk with the legacy ./uploads folder the old app wrote to.
    mkdirSync(join(container, 'uploads'), { recursive: true })
    return startDemo({ dataDir: join(container, '.data'), port: appPort, env })
  }
  const objectKeys = async () =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: 'uploads' }))).Contents ?? []).map((o) => o.Key)

  let app: DemoProcess = await deploy()
  try {
    const page = await browser.newPage()
    await signIn(page, app.url, 'ada@acme.test')

    // A logo (into the database).
    await page.getByRole('link', { name: 'Company settings' }).click()
    await page
      .getByLabel('Company logo', { exact: true })
      .setInputFiles({ name: 'acme.png', mimeType: 'image/png', buffer: await drawPng(page, 300, 200) })
    await page.getByRole('button', { name: 'Save logo' }).click()
    const logo = page.getByRole('banner').getByRole('img', { name: 'Acme logo' })
    await expect.poll(() => naturalWidth(logo)).toBe(300)
    const logoSrc = (await logo.getAttribute('src')) as string
    const logoSha = sha256(await (await page.request.get(`${app.url}${logoSrc}`)).body())

    // An attachment (into the bucket).
    await page.goto(app.url)
    await openTask(page, TASK)
    const attachmentBytes = randomBytes(3 * 1024 * 1024 + 17)
    const attachmentPath = join(scratch.dir, 'budget.xlsx.bin')
    writeFileSync(attachmentPath, attachmentBytes)
    await page.getByLabel('Attach files').setInputFiles(attachmentPath)
    const attachments = page.getByRole('list', { name: 'Attachments' })
    const downloadButton = attachments.getByRole('link', { name: 'Download budget.xlsx.bin' })
    await expect(downloadButton).toBeVisible({ timeout: 60_000 })

    // A pasted comment image (into the bucket, referenced from the comment).
    const editor = page.getByLabel('Comment', { exact: true })
    await editor.fill('Diagram for the report:')
    await pasteImage(editor, 'diagram.png')
    await expect(editor).toHaveValue(FILE_REFERENCE, { timeout: 30_000 })
    const fileUrl = FILE_REFERENCE.exec(await editor.inputValue())?.[1] as string
    await page.getByRole('button', { name: 'Post comment' }).click()
    const commentImage = page
      .getByRole('list', { name: 'Comments' })
      .getByRole('img', { name: 'diagram.png' })
    await expect.poll(() => naturalWidth(commentImage)).toBe(320)
    const commentImageSha = sha256(await (await page.request.get(`${app.url}${fileUrl}`)).body())
    expect(await objectKeys()).toHaveLength(2)

    // Deploy: stop the app, wipe its disk, start a fresh copy.
    await app.stop()
    rmSync(container, { recursive: true, force: true })
    app = await deploy()

    // Same browser session (the session secret is configuration, not local disk).
    await page.reload()
    await expect(page.getByRole('heading', { name: TASK })).toBeVisible()
    await expect.poll(() => naturalWidth(logo)).toBe(300)
    expect(sha256(await (await page.request.get(`${app.url}${logoSrc}`)).body())).toBe(logoSha)

    const download = page.waitForEvent('download')
    await downloadButton.click()
    expect(sha256(readFileSync(await (await download).path()))).toBe(sha256(attachmentBytes))

    await expect.poll(() => naturalWidth(commentImage)).toBe(320)
    expect(sha256(await (await page.request.get(`${app.url}${fileUrl}`)).body())).toBe(commentImageSha)

    // Deleting the attachment removes it from the list and its object from the bucket.
    await attachments.getByRole('button', { name: 'Delete budget.xlsx.bin' }).click()
    await expect(downloadButton).toHaveCount(0)
    await expect.poll(objectKeys).toHaveLength(1)
    await expect.poll(() => naturalWidth(commentImage)).toBe(320)
  } finally {
    s3.destroy()
    await app.stop()
    await bucket.kill()
    await postgres.stop()
    scratch.remove()
  }
})
