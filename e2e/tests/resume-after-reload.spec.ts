import { createHash, randomBytes } from 'node:crypto'
import { linkSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ListMultipartUploadsCommand, ListPartsCommand, type S3Client } from '@aws-sdk/client-s3'
import { type BrowserContext, chromium, expect, type Page, test } from '@playwright/test'
import { chromiumArgs, chromiumPath } from '../support/chromium'
import {
  type DemoProcess,
  embeddedBucketClient,
  freePort,
  makeDataDir,
  startDemo,
} from '../support/demo-process'
import { openTask, sha256, signIn, throttleUploads } from '../support/journeys'

/**
 * Uploads that outlive the page: a reload, a closed browser, a file the browser could not keep, a pause. The
 * bucket (not the page) says which parts arrived; each journey counts the part PUTs the page sends after it
 * comes back and checks the downloaded file byte for byte.
 */

const MiB = 1024 * 1024
const TASK = 'Ship the new logo'
/** 300 MiB: 16 parts of 19 MiB (`planTransfer`). */
const BIG = 300 * MiB
const BIG_PARTS = 16

test.describe('uploads that outlive the tab', () => {
  // Each journey sends 300 MiB at least once, partly throttled.
  test.describe.configure({ timeout: 240_000 })
  let data: ReturnType<typeof makeDataDir>
  let demo: DemoProcess
  let s3: S3Client
  let dir: string
  let big: { path: string; sha: string }

  test.beforeAll(async () => {
    data = makeDataDir()
    const s3Port = await freePort()
    demo = await startDemo({ dataDir: data.dir, env: { UPKIT_LOCAL_S3_PORT: String(s3Port) } })
    s3 = embeddedBucketClient(data.dir, s3Port)
    dir = mkdtempSync(join(tmpdir(), 'upkit-e2e-resume-'))
    const bytes = randomBytes(BIG)
    big = { path: join(dir, 'recording-300mib.bin'), sha: sha256(bytes) }
    writeFileSync(big.path, bytes)
  })

  test.afterAll(async () => {
    s3?.destroy()
    await demo?.stop()
    data?.remove()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  /**
   * The 300 MiB file under a name of its own (a hard link, no copy): journeys that share a worker share the
   * demo, and the attachment list must show each journey's file once.
   */
  function bigNamed(name: string): string {
    const path = join(dir, name)
    linkSync(big.path, path)
    return path
  }

  /** The bucket's unfinished multipart upload (there is one at a time in these journeys) and its parts. */
  async function bucketParts(): Promise<number[]> {
    const uploads = (await s3.send(new ListMultipartUploadsCommand({ Bucket: 'upkit' }))).Uploads ?? []
    const upload = uploads[0]
    if (!upload?.Key || !upload.UploadId) return []
    const listed = await s3.send(
      new ListPartsCommand({ Bucket: 'upkit', Key: upload.Key, UploadId: upload.UploadId }),
    )
    return (listed.Parts ?? []).map((part) => part.PartNumber ?? 0).sort((a, b) => a - b)
  }

  /** Part numbers of the part PUTs the page sends from now on. */
  function countPartPuts(page: Page): number[] {
    const parts: number[] = []
    page.on('request', (request) => {
      if (request.method() !== 'PUT') return
      const partNumber = new URL(request.url()).searchParams.get('partNumber')
      if (partNumber) parts.push(Number(partNumber))
    })
    return parts
  }

  async function startThrottled(page: Page, path: string, bytesPerSecond: number) {
    await throttleUploads(page, bytesPerSecond)
    await page.getByLabel('Attach files').setInputFiles(path)
  }

  async function expectDownloaded(page: Page, name: string, expectedSha: string) {
    const attachments = page.getByRole('list', { name: 'Attachments' })
    const link = attachments.getByRole('link', { name: `Download ${name}` })
    await expect(link).toBeVisible({ timeout: 120_000 })
    const download = page.waitForEvent('download')
    await link.click()
    const file = await download
    expect(sha256(readFileSync(await file.path()))).toBe(expectedSha)
  }

  /** The missing parts only: together with what the bucket had, every part exactly once. */
  function expectOnlyMissing(sentAfter: number[], hadBefore: number[]) {
    expect(hadBefore.length).toBeGreaterThan(0)
    expect(hadBefore.length).toBeLessThan(BIG_PARTS)
    const all = Array.from({ length: BIG_PARTS }, (_, i) => i + 1)
    expect([...sentAfter].sort((a, b) => a - b)).toEqual(all.filter((n) => !hadBefore.includes(n)))
  }

  test('a reload mid-way lists the upload; Resume sends only the missing parts and the file is whole', async ({
    browser,
  }) => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await signIn(page, demo.url, 'ada@acme.test')
    await openTask(page, TASK)
    const path = bigNamed('reload-300mib.bin')
    await startThrottled(page, path, 40 * MiB)
    await expect.poll(async () => (await bucketParts()).length, { timeout: 60_000 }).toBeGreaterThanOrEqual(4)

    // A second tab sees the upload, but as the first tab's: one tab sends an upload at a time.
    const other = await context.newPage()
    await other.goto(page.url())
    const elsewhere = other.getByRole('listitem', { name: 'reload-300mib.bin' })
    await expect(elsewhere).toContainText('Uploading in another tab')
    await expect(elsewhere.getByRole('button', { name: /Resume/ })).toHaveCount(0)
    await other.close()

    await page.reload()
    await throttleUploads(page, -1)
    const sentAfter = countPartPuts(page)
    const unfinished = page.getByRole('region', { name: 'Unfinished uploads' })
    await expect(unfinished.getByRole('listitem', { name: 'reload-300mib.bin' })).toContainText('300 MiB')
    // Read once the page is back: a part whose bytes had all left before the reload can still land in the bucket
    // just after it (seen in CI), and Resume rightly does not send it again.
    const hadBefore = await bucketParts()
    await unfinished.getByRole('button', { name: 'Resume reload-300mib.bin' }).click()
    await expectDownloaded(page, 'reload-300mib.bin', big.sha)
    expectOnlyMissing(sentAfter, hadBefore)
    await expect(unfinished).toHaveCount(0)
    await context.close()
  })

  test('a browser closed mid-way: the next one restores the file from IndexedDB and finishes it', async () => {
    const profile = mkdtempSync(join(tmpdir(), 'upkit-e2e-profile-'))
    const launch = () =>
      chromium.launchPersistentContext(profile, {
        executablePath: chromiumPath,
        args: chromiumArgs,
        headless: true,
        acceptDownloads: true,
      })
    let context: BrowserContext | null = await launch()
    try {
      let page = context.pages()[0] ?? (await context.newPage())
      await signIn(page, demo.url, 'ada@acme.test')
      await openTask(page, TASK)
      const path = bigNamed('closed-300mib.bin')
      await startThrottled(page, path, 40 * MiB)
      await expect
        .poll(async () => (await bucketParts()).length, { timeout: 60_000 })
        .toBeGreaterThanOrEqual(3)
      await context.close()
      context = null

      context = await launch()
      page = context.pages()[0] ?? (await context.newPage())
      // The profile kept the session cookie too: Ada is still signed in.
      await page.goto(demo.url)
      await openTask(page, TASK)
      const sentAfter = countPartPuts(page)
      const unfinished = page.getByRole('region', { name: 'Unfinished uploads' })
      const resume = unfinished.getByRole('button', { name: 'Resume closed-300mib.bin' })
      await expect(resume).toBeVisible()
      // Read once the next browser is up, for the same reason as after a reload.
      const hadBefore = await bucketParts()
      await resume.click()
      await expectDownloaded(page, 'closed-300mib.bin', big.sha)
      expectOnlyMissing(sentAfter, hadBefore)
    } finally {
      await context?.close()
      rmSync(profile, { recursive: true, force: true })
    }
  })

  test('when the browser did not keep the file, a wrong file picked again is refused before a byte is sent', async ({
    browser,
  }) => {
    const page = await browser.newPage()
    await signIn(page, demo.url, 'ada@acme.test')
    await openTask(page, TASK)
    const path = bigNamed('repick-300mib.bin')
    await startThrottled(page, path, 40 * MiB)
    await expect.poll(async () => (await bucketParts()).length, { timeout: 60_000 }).toBeGreaterThanOrEqual(3)
    // As a browser that cannot store files in IndexedDB would have it: the entry without its file.
    await page.evaluate(
      () =>
        new Promise<void>((resolve, reject) => {
          const open = indexedDB.open('upkit')
          open.onerror = () => reject(open.error)
          open.onsuccess = () => {
            const transaction = open.result.transaction('uploads', 'readwrite')
            const store = transaction.objectStore('uploads')
            const all = store.getAll()
            all.onsuccess = () => {
              for (const entry of all.result) store.put({ ...entry, file: null })
            }
            transaction.oncomplete = () => resolve()
            transaction.onerror = () => reject(transaction.error)
          }
        }),
    )
    await page.reload()
    await throttleUploads(page, -1)
    const hadBefore = await bucketParts()
    const sentAfter = countPartPuts(page)
    const row = page
      .getByRole('region', { name: 'Unfinished uploads' })
      .getByRole('listitem', { name: 'repick-300mib.bin' })

    // Same size, other bytes (another take of the same recording): refused, nothing sent.
    const wrong = join(dir, 'repick-300mib-other-take.bin')
    const wrongBytes = readFileSync(big.path)
    wrongBytes.writeUInt8(wrongBytes.readUInt8(wrongBytes.length - 1) ^ 0xff, wrongBytes.length - 1)
    writeFileSync(wrong, wrongBytes)
    const repick = row.getByLabel('Choose “repick-300mib.bin” again to resume')
    await repick.setInputFiles(wrong)
    await expect(row.getByRole('alert')).toContainText('This is not "repick-300mib.bin"')
    expect(sentAfter).toEqual([])

    await repick.setInputFiles(path)
    await expectDownloaded(page, 'repick-300mib.bin', big.sha)
    expectOnlyMissing(sentAfter, hadBefore)
    await page.close()
  })

  test('pause for 5 s, then resume: nothing is sent while paused and at most one part is sent twice', async ({
    browser,
  }) => {
    const page = await browser.newPage()
    // Bytes each bucket request reported sent (its last upload progress), aborted ones included.
    await page.addInitScript(() => {
      const sent: number[] = []
      ;(window as unknown as { upkitBytesSent: () => number }).upkitBytesSent = () =>
        sent.reduce((total, bytes) => total + bytes, 0)
      const send = XMLHttpRequest.prototype.send
      XMLHttpRequest.prototype.send = function (body) {
        if (body instanceof Blob) {
          const index = sent.push(0) - 1
          this.upload.addEventListener('progress', (event) => {
            sent[index] = Math.max(sent[index] ?? 0, event.loaded)
          })
        }
        return send.call(this, body)
      }
    })
    await signIn(page, demo.url, 'ada@acme.test')
    await openTask(page, TASK)
    const size = 96 * MiB
    const bytes = randomBytes(size)
    const path = join(dir, 'pause-me-96mib.bin')
    writeFileSync(path, bytes)
    // 96 MiB: 12 parts of 8 MiB.
    const partSize = 8 * MiB
    await startThrottled(page, path, 16 * MiB)
    await expect.poll(async () => (await bucketParts()).length, { timeout: 60_000 }).toBeGreaterThanOrEqual(3)

    const row = page
      .getByRole('list', { name: 'Uploads' })
      .getByRole('listitem')
      .filter({ hasText: 'pause-me-96mib.bin' })
    await row.getByRole('button', { name: 'Pause upload of pause-me-96mib.bin' }).click()
    await expect(row).toContainText('Paused', { timeout: 30_000 })
    const puts = countPartPuts(page)
    const partsWhenPaused = await bucketParts()
    await page.waitForTimeout(5000)
    expect(puts).toEqual([])
    expect(await bucketParts()).toEqual(partsWhenPaused)

    await throttleUploads(page, -1)
    await row.getByRole('button', { name: 'Resume upload of pause-me-96mib.bin' }).click()
    await expectDownloaded(page, 'pause-me-96mib.bin', createHash('sha256').update(bytes).digest('hex'))
    const sent = await page.evaluate(() =>
      (window as unknown as { upkitBytesSent: () => number }).upkitBytesSent(),
    )
    expect(sent).toBeGreaterThanOrEqual(size)
    expect(sent).toBeLessThanOrEqual(size + partSize)
    await page.close()
  })
})
