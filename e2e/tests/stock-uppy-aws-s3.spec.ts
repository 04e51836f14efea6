import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3'
import { expect, type Page, test } from '@playwright/test'
import { build } from 'esbuild'
import {
  type DemoProcess,
  embeddedBucketClient,
  freePort,
  makeDataDir,
  startDemo,
} from '../support/demo-process'
import { openTask, sha256, signIn } from '../support/journeys'
import type { StockUploadResult } from '../support/stock-uppy-page'

/**
 * upkit ships its own uploader, but `uploads.sign` is also the `signRequest` hook of the stock `@uppy/aws-s3`
 * 6.x plugin: an app that keeps that plugin must be able to send files through upkit unchanged. The plugin
 * runs in Chromium on a demo page, against the demo's API and local bucket.
 */

const MiB = 1024 * 1024
const TASK = 'Ship the new logo'

/** The page script (stock-uppy-page.ts) bundled for the browser. */
async function bundle(): Promise<string> {
  const result = await build({
    entryPoints: [join(import.meta.dirname, '../support/stock-uppy-page.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'error',
  })
  const output = result.outputFiles[0]
  if (!output) throw new Error('esbuild produced no output')
  return output.text
}

test.describe('the stock @uppy/aws-s3 plugin through uploads.sign', () => {
  // The plugin's bundle is added to the page as an inline script, which the demo's CSP forbids (as it should: an
  // app would ship the plugin in its own bundle). Its network calls are what this journey checks.
  test.use({ bypassCSP: true })

  let data: ReturnType<typeof makeDataDir>
  let demo: DemoProcess
  let s3: S3Client
  let script: string

  test.beforeAll(async () => {
    data = makeDataDir()
    const s3Port = await freePort()
    ;[demo, script] = await Promise.all([
      startDemo({ dataDir: data.dir, env: { UPKIT_LOCAL_S3_PORT: String(s3Port) } }),
      bundle(),
    ])
    s3 = embeddedBucketClient(data.dir, s3Port)
  })

  test.afterAll(async () => {
    s3?.destroy()
    await demo?.stop()
    data?.remove()
  })

  /** Chooses `bytes` as `name` in a file input of its own and uploads it with the stock plugin. */
  async function stockUpload(
    page: Page,
    taskId: string,
    name: string,
    bytes: Buffer,
  ): Promise<StockUploadResult> {
    const input = await page.evaluateHandle(() => {
      const element = document.createElement('input')
      element.type = 'file'
      document.body.append(element)
      return element
    })
    await input.setInputFiles({ name, mimeType: 'application/octet-stream', buffer: bytes })
    return page.evaluate(
      ([element, task]) =>
        (
          window as unknown as {
            upkitStockUpload: (input: HTMLInputElement, taskId: string) => Promise<StockUploadResult>
          }
        ).upkitStockUpload(element, task),
      [input, taskId] as const,
    )
  }

  test('a single PUT and a multipart file arrive whole, are confirmed and leave no multipart upload', async ({
    page,
  }) => {
    await signIn(page, demo.url, 'ada@acme.test')
    const taskId = await openTask(page, TASK)
    await page.addScriptTag({ content: script })

    const small = randomBytes(3 * MiB)
    const big = randomBytes(40 * MiB)
    const single = await stockUpload(page, taskId, 'stock-single.bin', small)
    expect(single.record).toMatchObject({
      status: 'confirmed',
      size: small.length,
      fileName: 'stock-single.bin',
    })
    expect(single.signed).toEqual([{ method: 'PUT', withUploadId: false }])

    const multipart = await stockUpload(page, taskId, 'stock-multipart.bin', big)
    expect(multipart.record).toMatchObject({ status: 'confirmed', size: big.length })
    // The plugin creates its own multipart upload, then one signing call per part (5 parts of 8 MiB), then
    // Complete: the server signed each with the part length it planned.
    expect(multipart.signed).toEqual([
      { method: 'POST', withUploadId: false },
      ...[1, 2, 3, 4, 5].map((partNumber) => ({ method: 'PUT', partNumber, withUploadId: true })),
      { method: 'POST', withUploadId: true },
    ])
    // Neither the plugin's multipart upload nor the one `create` had already started is left behind.
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'upkit' }))).Uploads ?? []).toEqual([])

    // Both are ordinary attachments now: listed, and downloadable byte for byte.
    await page.reload()
    const attachments = page.getByRole('list', { name: 'Attachments' })
    for (const [record, bytes] of [
      [single.record, small],
      [multipart.record, big],
    ] as const) {
      await expect(attachments.getByRole('link', { name: `Download ${record.fileName}` })).toBeVisible()
      const answer = await page.request.get(
        `${demo.url}/trpc/uploads.download?input=${encodeURIComponent(JSON.stringify({ uploadId: record.id }))}`,
      )
      const url = (await answer.json()).result.data.url as string
      const body = await page.request.get(url)
      expect(body.status()).toBe(200)
      expect(sha256(await body.body())).toBe(sha256(bytes))
    }
  })
})
