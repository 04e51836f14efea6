import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3'
import { type APIRequestContext, expect, type Page, test } from '@playwright/test'
import {
  type DemoProcess,
  embeddedBucketClient,
  freePort,
  makeDataDir,
  startDemo,
} from '../support/demo-process'
import { openTask as openTaskByTitle, sha256, signIn, throttleUploads } from '../support/journeys'

const openTask = (page: Page) => openTaskByTitle(page, TASK)

const MiB = 1024 * 1024
const TASK = 'Ship the new logo'

/** A tRPC query over plain HTTP, as any client could send it, with the page's session cookie. */
function trpcQuery(request: APIRequestContext, baseUrl: string, path: string, input: unknown) {
  return request.get(`${baseUrl}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`)
}

function trpcMutation(request: APIRequestContext, baseUrl: string, path: string, input: unknown) {
  return request.post(`${baseUrl}/trpc/${path}`, { data: input })
}

test.describe('task attachments', () => {
  let data: ReturnType<typeof makeDataDir>
  let demo: DemoProcess
  let s3: S3Client
  let files: { dir: string; small: string; big: string; huge: string; smallSha: string; bigSha: string }

  test.beforeAll(async () => {
    data = makeDataDir()
    const s3Port = await freePort()
    demo = await startDemo({ dataDir: data.dir, env: { UPKIT_LOCAL_S3_PORT: String(s3Port) } })
    s3 = embeddedBucketClient(data.dir, s3Port)
    const dir = mkdtempSync(join(tmpdir(), 'upkit-e2e-files-'))
    const small = randomBytes(2 * MiB)
    const big = randomBytes(64 * MiB)
    files = {
      dir,
      small: join(dir, 'notes-2mib.bin'),
      big: join(dir, 'recording-64mib.bin'),
      huge: join(dir, 'cancel-me-96mib.bin'),
      smallSha: sha256(small),
      bigSha: sha256(big),
    }
    writeFileSync(files.small, small)
    writeFileSync(files.big, big)
    writeFileSync(files.huge, randomBytes(96 * MiB))
  })

  test.afterAll(async () => {
    s3?.destroy()
    await demo?.stop()
    data?.remove()
    if (files) rmSync(files.dir, { recursive: true, force: true })
  })

  const multipartUploads = async () =>
    (await s3.send(new ListMultipartUploadsCommand({ Bucket: 'upkit' }))).Uploads ?? []

  test('a single-PUT and a multipart file upload, download byte-identical, and stay in their company', async ({
    browser,
  }) => {
    const ada = await browser.newPage()
    await signIn(ada, demo.url, 'ada@acme.test')
    const taskId = await openTask(ada)
    await expect(ada.getByText('No attachments yet.')).toBeVisible()

    await ada.getByLabel('Attach files').setInputFiles([files.small, files.big])
    const attachments = ada.getByRole('list', { name: 'Attachments' })
    await expect(attachments.getByRole('link', { name: 'Download notes-2mib.bin' })).toBeVisible({
      timeout: 60_000,
    })
    await expect(attachments.getByRole('link', { name: 'Download recording-64mib.bin' })).toBeVisible({
      timeout: 60_000,
    })
    await expect(attachments).toContainText('2 MiB')
    await expect(attachments).toContainText('64 MiB')
    await expect(ada.locator('[aria-live="polite"]')).toContainText(/\.bin uploaded\./)

    for (const [name, expected] of [
      ['notes-2mib.bin', files.smallSha],
      ['recording-64mib.bin', files.bigSha],
    ] as const) {
      const download = ada.waitForEvent('download')
      await attachments.getByRole('link', { name: `Download ${name}` }).click()
      const file = await download
      expect(file.suggestedFilename()).toBe(name)
      const path = await file.path()
      expect(sha256(readFileSync(path))).toBe(expected)
    }
    expect(await multipartUploads()).toEqual([])

    // Eve (Globex) gets nothing for Ada's attachment, whichever procedure she calls.
    const listed = await trpcQuery(ada.request, demo.url, 'uploads.list', {
      route: 'taskAttachment',
      input: { taskId },
    })
    expect(listed.status()).toBe(200)
    const records = (await listed.json()).result.data as { id: string; fileName: string }[]
    expect(records.map((r) => r.fileName).sort()).toEqual(['notes-2mib.bin', 'recording-64mib.bin'])
    const uploadId = records[0]?.id as string
    // Each Download is a plain link to the app's /files/<id>?download (open in a new tab, copy, share in the
    // company), which saves the file under its name.
    for (const record of records) {
      await expect(attachments.getByRole('link', { name: `Download ${record.fileName}` })).toHaveAttribute(
        'href',
        `/files/${record.id}?download`,
      )
    }

    const eve = await browser.newPage()
    await signIn(eve, demo.url, 'eve@globex.test')
    const eveDownload = await trpcQuery(eve.request, demo.url, 'uploads.download', { uploadId })
    expect(eveDownload.status()).toBe(404)
    expect(await eveDownload.text()).not.toContain('X-Amz-Signature')
    // ...nor for the link Ada could share: the same 404 as for a file that does not exist, no redirect.
    const eveLink = await eve.request.get(`${demo.url}/files/${uploadId}`, { maxRedirects: 0 })
    expect(eveLink.status()).toBe(404)
    expect(eveLink.headers().location).toBeUndefined()
    expect(await eveLink.text()).not.toContain('X-Amz-Signature')
    // Ada's own request to the same link is redirected to a signed GET.
    const adaLink = await ada.request.get(`${demo.url}/files/${uploadId}`, { maxRedirects: 0 })
    expect(adaLink.status()).toBe(302)
    expect(adaLink.headers().location).toContain('X-Amz-Signature')
    expect(
      (
        await trpcQuery(eve.request, demo.url, 'uploads.list', { route: 'taskAttachment', input: { taskId } })
      ).status(),
    ).toBe(404)
    expect((await trpcMutation(eve.request, demo.url, 'uploads.delete', { uploadId })).status()).toBe(404)
    expect((await trpcMutation(eve.request, demo.url, 'uploads.confirm', { uploadId })).status()).toBe(404)
    // ...and Ada still has both.
    const after = await trpcQuery(ada.request, demo.url, 'uploads.list', {
      route: 'taskAttachment',
      input: { taskId },
    })
    expect(((await after.json()).result.data as unknown[]).length).toBe(2)

    // Delete removes it from the list; the focus it held moves to the attachment left, not to the page.
    await attachments.getByRole('button', { name: 'Delete notes-2mib.bin' }).click()
    await expect(attachments.getByRole('link', { name: 'Download notes-2mib.bin' })).toHaveCount(0)
    await expect(attachments.getByRole('link', { name: 'Download recording-64mib.bin' })).toBeFocused()
  })

  test('cancelling a multipart upload leaves no multipart upload in the bucket', async ({ page }) => {
    await signIn(page, demo.url, 'ada@acme.test')
    await openTask(page)
    // Slow uploads down so there is something to cancel: 96 MiB at 8 MiB/s takes ~12 s.
    await throttleUploads(page, 8 * MiB)
    await page.getByLabel('Attach files').setInputFiles(files.huge)
    const progress = page.getByRole('progressbar', { name: 'Upload of cancel-me-96mib.bin' })
    await expect(progress).toBeVisible()
    await expect
      .poll(async () => Number(await progress.getAttribute('value')), { timeout: 30_000 })
      .toBeGreaterThan(5)
    await expect.poll(async () => (await multipartUploads()).length).toBe(1)

    await page.getByRole('button', { name: 'Cancel upload of cancel-me-96mib.bin' }).click()
    await expect(progress).toHaveCount(0)
    await expect.poll(async () => (await multipartUploads()).length, { timeout: 15_000 }).toBe(0)
    await expect(page.getByRole('link', { name: 'Download cancel-me-96mib.bin' })).toHaveCount(0)
  })

  test('a confirm the server never answers is given up after 30 s and sent again: the file is listed', async ({
    page,
  }) => {
    // uploadApiFromTRPC's default timeout (30 s) and the retry after it.
    test.setTimeout(120_000)
    await signIn(page, demo.url, 'ada@acme.test')
    await openTask(page)
    // The first confirm reaches nobody and is never answered: a server stuck on its database looks the same.
    let confirms = 0
    await page.route(/\/trpc\/[^?]*uploads\.confirm/, async (route) => {
      if (++confirms === 1) return
      await route.continue()
    })
    const name = 'unanswered-confirm.txt'
    await page.getByLabel('Attach files').setInputFiles({
      name,
      mimeType: 'text/plain',
      buffer: Buffer.from('confirmed on the second try\n'),
    })
    await expect(page.getByRole('progressbar', { name: `Upload of ${name}` })).toBeVisible()
    const link = page
      .getByRole('list', { name: 'Attachments' })
      .getByRole('link', { name: `Download ${name}` })
    await expect(link).toBeVisible({ timeout: 75_000 })
    expect(confirms).toBe(2)
    await expect(page.getByRole('list', { name: 'Uploads' })).toHaveCount(0)
  })
})
