import { expect, type Page, test } from '@playwright/test'
import type { FaultRate, FaultScript } from '@upkit/testing/fault-proxy'
import { type FaultyStack, startFaultyStack, type TestFile, writeTestFile } from '../support/faulty-stack'
import { openTask, sha256, signIn, throttleUploads } from '../support/journeys'

const KiB = 1024
const MiB = 1024 * KiB

/**
 * 5% of bucket requests fail, and every 20th fails while slowDown, resetMidBody or hang has not shown up yet (with
 * a few hundred requests a plain 5% now and then leaves a kind out).
 */
const fivePercent: FaultRate = (_request, counts) => {
  const seen = Object.values(counts.requests).reduce((sum, n) => sum + n, 0)
  const missing = counts.faults.slowDown === 0 || counts.faults.resetMidBody === 0 || counts.faults.hang === 0
  return missing && seen % 20 === 0 ? 1 : 0.05
}

/**
 * The rare operations, too few for 5% to reach in every run: the server's first CreateMultipartUpload loses its
 * answer (the SDK sends it again and a second upload opens at the key), the browser's first Complete completes and
 * is answered 500.
 */
const rareCases: FaultScript = (request, counts) => {
  if (request.type === 'createMultipart' && counts.requests.createMultipart === 1) return 'resetMidBody'
  if (request.type === 'completeMultipart' && counts.faults.completeThen500 === 0) return 'completeThen500'
  return null
}

/** Single PUTs of 1 KiB up to `smallMax`, and files of five 8 MiB parts (multipart starts at 32 MiB). */
function makeFiles(dir: string, small: number, multipart: number, smallMax = 256 * KiB): TestFile[] {
  const files: TestFile[] = []
  for (let i = 0; i < small; i++) {
    const size = 1 * KiB + ((i * 7919 * KiB) % smallMax)
    files.push(writeTestFile(dir, `small-${String(i + 1).padStart(2, '0')}.bin`, size))
  }
  for (let i = 0; i < multipart; i++) {
    files.push(writeTestFile(dir, `large-${i + 1}.bin`, 33 * MiB + i * 123 * KiB))
  }
  return files
}

/**
 * Every file listed once, downloaded through its link byte-identical, and the keys its downloads came from: those
 * are the confirmed objects the bucket must hold, and nothing else.
 */
async function expectAllConfirmed(page: Page, stack: FaultyStack, files: readonly TestFile[]) {
  const list = page.getByRole('list', { name: 'Attachments' })
  await expect(list.getByRole('listitem')).toHaveCount(files.length, { timeout: 150_000 })
  await expect(page.getByRole('list', { name: 'Uploads' })).toHaveCount(0, { timeout: 30_000 })
  const keys: string[] = []
  for (const file of files) {
    const link = list.getByRole('link', { name: `Download ${file.name}`, exact: true })
    await expect(link).toHaveCount(1)
    const href = await link.getAttribute('href')
    const redirect = await page.request.get(new URL(href ?? '', stack.demo.url).toString(), {
      maxRedirects: 0,
    })
    expect(redirect.status(), file.name).toBe(302)
    const signedGet = redirect.headers().location ?? ''
    const key = decodeURIComponent(new URL(signedGet).pathname.replace(/^\/upkit\//, ''))
    keys.push(key)
    const body = await (await page.request.get(signedGet)).body()
    expect(body.length, file.name).toBe(file.size)
    expect(sha256(body), file.name).toBe(file.sha256)
  }
  return keys
}

/** After a sweep: exactly the confirmed objects (no orphan from a retried PUT or Complete), no open multipart upload. */
async function expectCleanBucket(stack: FaultyStack, keys: readonly string[]) {
  await stack.sweepOnce()
  const objects = await stack.bucketObjects()
  expect(objects.map((object) => object.key).sort()).toEqual([...keys].sort())
  expect(await stack.openMultipartUploads()).toEqual([])
}

function report(stack: FaultyStack) {
  const text = stack.proxy.report()
  console.log(text)
  test.info().annotations.push({ type: 'faults', description: text })
}

test.describe('uploads against a failing bucket', () => {
  let stack: FaultyStack | undefined
  test.afterEach(async () => {
    if (stack && test.info().status !== test.info().expectedStatus) {
      console.log(`demo output:\n${stack.demo.output().slice(-6000)}`)
    }
    await stack?.stop()
    stack = undefined
  })

  test('50 files while 5% of bucket requests fail all end confirmed, byte-identical, with a clean bucket', async ({
    page,
  }) => {
    test.setTimeout(240_000)
    stack = await startFaultyStack({ rate: fivePercent, script: rareCases })
    const files = makeFiles(stack.dataDir, 46, 4)
    await signIn(page, stack.demo.url, 'ada@acme.test')
    await openTask(page, 'Ship the new logo')
    await page.getByLabel('Attach files').setInputFiles(files.map((file) => file.path))

    const list = page.getByRole('list', { name: 'Attachments' })
    try {
      await expect(list.getByRole('listitem')).toHaveCount(files.length, { timeout: 150_000 })
    } finally {
      report(stack)
    }
    // Every kind was injected, into the browser's requests and into the server's.
    const { faults, faultsByType } = stack.proxy.counts()
    for (const kind of ['slowDown', 'resetMidBody', 'hang', 'completeThen500'] as const) {
      expect(faults[kind], kind).toBeGreaterThan(0)
    }
    expect(faultsByType.completeMultipart?.completeThen500).toBeGreaterThan(0)
    expect(faultsByType.createMultipart?.resetMidBody).toBeGreaterThan(0)

    // The checks read the bucket through the proxy too (downloads): they are not under test.
    stack.proxy.setRate(0)
    const keys = await expectAllConfirmed(page, stack, files)
    await expectCleanBucket(stack, keys)
  })

  test('a PostgreSQL restart while files are in flight loses none of them', async ({ page }) => {
    test.setTimeout(180_000)
    stack = await startFaultyStack({ rate: 0 })
    // Single PUTs of up to 1 MiB: at 8 MiB/s some of them are still being sent, created or confirmed.
    const files = makeFiles(stack.dataDir, 20, 2, 1 * MiB)
    await signIn(page, stack.demo.url, 'ada@acme.test')
    await openTask(page, 'Ship the new logo')
    // Slow enough that the restart lands while parts travel and the small files create and confirm.
    await throttleUploads(page, 8 * MiB)
    await page.getByLabel('Attach files').setInputFiles(files.map((file) => file.path))

    // API calls the restart failed (the page retries them): evidence it landed on work in flight.
    let failedCalls = 0
    page.on('response', (response) => {
      if (response.url().includes('/trpc/') && response.status() >= 500) failedCalls++
    })
    const list = page.getByRole('list', { name: 'Attachments' })
    // Some files confirmed, others not yet: the restart cuts the pool's sessions in the middle of the drop.
    await expect.poll(() => list.getByRole('listitem').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(1)
    const listedBefore = await list.getByRole('listitem').count()
    expect(listedBefore).toBeLessThan(files.length)
    await stack.postgres.restart()
    await throttleUploads(page, -1)

    const keys = await expectAllConfirmed(page, stack, files)
    await expectCleanBucket(stack, keys)
    const text = `${listedBefore} of ${files.length} files listed at the restart; ${failedCalls} API calls answered 5xx`
    console.log(text)
    test.info().annotations.push({ type: 'postgres restart', description: text })
  })
})
