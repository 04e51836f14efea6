import { mkdirSync } from 'node:fs'
import { type APIRequestContext, expect, type Locator, type Page, test } from '@playwright/test'
import { demoPerDescribe } from '../support/demo-process'
import { openTask, signIn, throttleUploads } from '../support/journeys'

/** Screenshots of the drop zone for people to look at (not compared): normal size and with 200 files. */
const SCREENSHOTS = process.env.UPKIT_SCREENSHOTS ?? '/tmp/upkit-dropzone-screenshots'
const MiB = 1024 * 1024

interface Record_ {
  id: string
  fileName: string
  mimeType: string
  size: number
  thumbnailUrl: string | null
}

async function listUploads(request: APIRequestContext, baseUrl: string, route: string, taskId: string) {
  const input = encodeURIComponent(JSON.stringify({ route, input: { taskId } }))
  const response = await request.get(`${baseUrl}/trpc/uploads.list?input=${input}`)
  expect(response.status()).toBe(200)
  return (await response.json()).result.data as Record_[]
}

/** A small file as the browser sees it, sent in a paste or a drop (`bytes` are what the file holds). */
interface PageFile {
  name: string
  type: string
  text: string
}

const PDF: PageFile = {
  name: 'brief.pdf',
  type: 'application/pdf',
  text: '%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
}

/** Dispatches a `paste` carrying `file` at `target`, as the browser does for Ctrl+V of a copied file. */
async function pasteFile(target: Locator, file: PageFile) {
  await target.evaluate((element, file) => {
    const data = new DataTransfer()
    data.items.add(new File([file.text], file.name, { type: file.type }))
    ;(element as HTMLElement).focus()
    element.dispatchEvent(
      new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
    )
  }, file)
}

/** A drag of `file` entering the page over `selector`, then (with `drop`) dropped there. */
async function dragFile(page: Page, selector: string, file: PageFile, steps: ('dragenter' | 'drop')[]) {
  await page.evaluate(
    ({ selector, file, steps }) => {
      const target = document.querySelector(selector) as HTMLElement
      const data = new DataTransfer()
      data.items.add(new File([file.text], file.name, { type: file.type }))
      for (const type of steps)
        target.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }))
    },
    { selector, file, steps },
  )
}

/**
 * Builds a photo-like JPEG of about 20 MiB in the page (gradient plus noise, so it does not compress away) and
 * puts it in the drop zone's file input, as choosing it in the dialog would. Resolves its size.
 */
async function chooseLargeJpeg(page: Page, name: string): Promise<number> {
  return page.getByLabel('Attach files').evaluate(async (input, name) => {
    const [width, height] = [6000, 4000]
    const canvas = document.createElement('canvas')
    canvas.width = width
    canvas.height = height
    const context = canvas.getContext('2d') as CanvasRenderingContext2D
    const gradient = context.createLinearGradient(0, 0, width, height)
    gradient.addColorStop(0, '#3559e0')
    gradient.addColorStop(1, '#f2a900')
    context.fillStyle = gradient
    context.fillRect(0, 0, width, height)
    const pixels = context.getImageData(0, 0, width, height)
    let seed = 7
    for (let i = 0; i < pixels.data.length; i += 4) {
      seed = (seed * 1103515245 + 12345) >>> 0
      const noise = ((seed >>> 16) % 128) - 64
      pixels.data[i] = (pixels.data[i] ?? 0) + noise
      pixels.data[i + 1] = (pixels.data[i + 1] ?? 0) + (noise >> 1)
      pixels.data[i + 2] = (pixels.data[i + 2] ?? 0) - noise
    }
    context.putImageData(pixels, 0, 0)
    const blob = await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('no JPEG'))), 'image/jpeg', 0.97),
    )
    const data = new DataTransfer()
    data.items.add(new File([blob], name, { type: 'image/jpeg' }))
    ;(input as HTMLInputElement).files = data.files
    input.dispatchEvent(new Event('change', { bubbles: true }))
    return blob.size
  }, name)
}

test.describe('the drop zone', () => {
  const demo = demoPerDescribe()

  test('the picker is a labelled button reached by keyboard, never the native "No file chosen"', async ({
    page,
  }) => {
    await signIn(page, demo().url, 'ada@acme.test')
    await openTask(page, 'Ship the new logo')
    const input = page.getByLabel('Attach files')
    // A real file input with the button's text as its name, in the tab order...
    await expect(input).toHaveAttribute('type', 'file')
    await expect(page.getByText('No file chosen')).toHaveCount(0)
    const box = await input.boundingBox()
    expect((box?.width ?? 0) <= 1 && (box?.height ?? 0) <= 1).toBe(true)
    const picker = page.locator('label.upkit-picker')
    await expect(picker).toHaveText('Attach files')
    await page.getByRole('heading', { name: 'Attachments' }).click()
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('Tab')
      if (await input.evaluate((element) => element === document.activeElement)) break
    }
    await expect(input).toBeFocused()
    // ...whose focus shows on the button people see.
    await expect(picker).toHaveCSS('outline-style', 'solid')
    await page.keyboard.press('Tab')
    await expect(picker).not.toHaveCSS('outline-style', 'solid')
    // Enter on it opens the file dialog, as on any file input.
    await input.focus()
    const chooser = page.waitForEvent('filechooser')
    await page.keyboard.press('Enter')
    expect((await chooser).isMultiple()).toBe(true)
  })

  test('a 20 MB photo gets a thumbnail under 16 KiB; a PDF gets a type icon; pasting into the zone uploads', async ({
    page,
  }) => {
    await signIn(page, demo().url, 'ada@acme.test')
    const taskId = await openTask(page, 'Ship the new logo')
    const list = page.getByRole('list', { name: 'Attachments' })

    const size = await chooseLargeJpeg(page, 'holiday.jpg')
    expect(size).toBeGreaterThan(18 * MiB)
    // While it uploads, the row previews the local file.
    await expect(
      page.getByRole('list', { name: 'Uploads' }).getByRole('img', { name: 'Preview of holiday.jpg' }),
    ).toBeVisible()
    await expect(list.getByRole('link', { name: 'Download holiday.jpg' })).toBeVisible({ timeout: 60_000 })

    const photo = (await listUploads(page.request, demo().url, 'taskAttachment', taskId)).find(
      (record) => record.fileName === 'holiday.jpg',
    )
    expect(photo?.thumbnailUrl).toBe(`/files/${photo?.id}/thumbnail`)
    const thumbnail = await page.request.get(`${demo().url}${photo?.thumbnailUrl}`)
    expect(thumbnail.status()).toBe(200)
    const bytes = await thumbnail.body()
    expect(bytes.length).toBeGreaterThan(0)
    expect(bytes.length).toBeLessThanOrEqual(16 * 1024)
    expect(thumbnail.headers()['content-type']).toBe('image/webp')
    // The list shows that thumbnail, never the 20 MB original.
    const preview = list.getByRole('img', { name: 'Preview of holiday.jpg' })
    await expect(preview).toHaveAttribute('src', photo?.thumbnailUrl ?? '')
    await expect.poll(() => preview.evaluate((image) => (image as HTMLImageElement).naturalWidth)).toBe(160)
    // Download saves the photo under its name (`?download`) rather than opening the image in the tab.
    const download = page.waitForEvent('download', { timeout: 15_000 })
    await list.getByRole('link', { name: 'Download holiday.jpg' }).click()
    expect((await download).suggestedFilename()).toBe('holiday.jpg')
    await expect(page).toHaveURL(new RegExp(`/tasks/${taskId}$`))

    // Pasted with the focus in the drop zone (on its picker), a PDF uploads and is listed with a PDF icon.
    await pasteFile(page.getByLabel('Attach files'), PDF)
    const pdfRow = list.getByRole('listitem').filter({ hasText: 'brief.pdf' })
    await expect(pdfRow.getByRole('link', { name: 'Download brief.pdf' })).toBeVisible()
    await expect(pdfRow.getByRole('img', { name: 'PDF file' })).toBeVisible()
    await expect(pdfRow.locator('img')).toHaveCount(0)
    // Who and when: the demo names the signed-in person's own files "You".
    await expect(pdfRow).toContainText('You')
    await expect(pdfRow.locator('time')).toHaveText(/now|second|minute/)

    mkdirSync(SCREENSHOTS, { recursive: true })
    await page.setViewportSize({ width: 1100, height: 900 })
    await page.getByRole('heading', { name: 'Attachments' }).scrollIntoViewIfNeeded()
    await page.screenshot({ path: `${SCREENSHOTS}/dropzone-normal.png`, fullPage: true })
  })

  test('files dropped anywhere on the task page attach to the task, with an announced overlay', async ({
    page,
  }) => {
    await signIn(page, demo().url, 'ada@acme.test')
    await openTask(page, 'Ship the new logo')
    const overlay = page.locator('.upkit-page-drop')
    const label = 'Drop files to attach to “Ship the new logo”'
    await dragFile(page, 'h1', { ...PDF, name: 'dropped.pdf' }, ['dragenter'])
    await expect(overlay).toBeVisible()
    await expect(overlay).toHaveText(label)
    await expect(page.getByRole('status').filter({ hasText: label })).toHaveCount(1)
    await page.screenshot({ path: `${SCREENSHOTS}/page-drop-overlay.png` })
    // Escape hides it (a drag the browser cancelled can leave no dragleave behind).
    await page.keyboard.press('Escape')
    await expect(overlay).toHaveCount(0)
    await expect(page.getByRole('status').filter({ hasText: label })).toHaveCount(0)

    await dragFile(page, 'h1', { ...PDF, name: 'dropped.pdf' }, ['dragenter', 'drop'])
    await expect(overlay).toHaveCount(0)
    const list = page.getByRole('list', { name: 'Attachments' })
    await expect(list.getByRole('link', { name: 'Download dropped.pdf' })).toBeVisible()
    await expect(list.getByRole('link', { name: 'Download dropped.pdf' })).toHaveCount(1)

    // A paste anywhere on the page (focus on the body) attaches too; the comment editor keeps its own paste.
    await pasteFile(page.locator('h1'), { ...PDF, name: 'pasted-on-page.pdf' })
    await expect(list.getByRole('link', { name: 'Download pasted-on-page.pdf' })).toBeVisible()
  })

  test('a pasted 4K screenshot is resized and re-encoded as WebP on the comment route', async ({ page }) => {
    await signIn(page, demo().url, 'ada@acme.test')
    const taskId = await openTask(page, 'Quarterly report')
    const editor = page.getByLabel('Comment', { exact: true })
    const original = await editor.evaluate(async (element) => {
      const [width, height] = [3840, 2160]
      const canvas = document.createElement('canvas')
      canvas.width = width
      canvas.height = height
      const context = canvas.getContext('2d') as CanvasRenderingContext2D
      context.fillStyle = '#f6f7f9'
      context.fillRect(0, 0, width, height)
      // A screenshot-like picture: text, boxes, and a photo in one corner (noise keeps PNG from shrinking it).
      context.fillStyle = '#1d2330'
      context.font = '28px sans-serif'
      for (let y = 60; y < height; y += 44)
        context.fillText(`Row ${y}: quarterly revenue by region, ${y * 37}`, 40, y)
      const photo = context.getImageData(2000, 200, 1600, 1200)
      let seed = 3
      for (let i = 0; i < photo.data.length; i += 4) {
        seed = (seed * 1103515245 + 12345) >>> 0
        photo.data[i] = (seed >>> 24) & 0xff
        photo.data[i + 1] = (seed >>> 16) & 0xff
        photo.data[i + 2] = (seed >>> 8) & 0x7f
        photo.data[i + 3] = 255
      }
      context.putImageData(photo, 2000, 200)
      const blob = await new Promise<Blob>((resolve, reject) =>
        canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('no PNG'))), 'image/png'),
      )
      const data = new DataTransfer()
      data.items.add(new File([blob], 'screenshot.png', { type: 'image/png' }))
      ;(element as HTMLTextAreaElement).focus()
      element.dispatchEvent(
        new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
      )
      return blob.size
    })
    expect(original).toBeGreaterThan(1 * MiB)
    await expect(editor).toHaveValue(/!\[screenshot\.png\]\(\/files\/[0-9a-f-]{36}\)/, { timeout: 60_000 })
    const [record] = await listUploads(page.request, demo().url, 'commentImage', taskId)
    expect(record?.mimeType).toBe('image/webp')
    expect(record?.fileName).toBe('screenshot.webp')
    expect(record?.size).toBeLessThan(original / 2)
    // Resized to the route's 2560 px edge.
    await page.getByRole('button', { name: 'Post comment' }).click()
    const image = page.getByRole('list', { name: 'Comments' }).getByRole('img', { name: 'screenshot.png' })
    await expect.poll(() => image.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(2560)
  })

  test('200 files at once: totals on top say 200, and every file lands in the list', async ({ page }) => {
    test.setTimeout(240_000)
    await signIn(page, demo().url, 'ada@acme.test')
    await openTask(page, 'Quarterly report')
    await page.setViewportSize({ width: 1100, height: 900 })
    // Slow enough to see (and photograph) all 200 in flight.
    await throttleUploads(page, 64 * 1024)
    const files = Array.from({ length: 200 }, (_, i) => ({
      name: `scan-${String(i + 1).padStart(3, '0')}.${i % 3 === 0 ? 'pdf' : 'txt'}`,
      mimeType: i % 3 === 0 ? 'application/pdf' : 'text/plain',
      buffer: Buffer.from(i % 3 === 0 ? PDF.text : `scan ${i + 1}\n`.repeat(200)),
    }))
    // tRPC procedures the page calls, one entry per call (httpBatchLink joins names with commas).
    const procedures: string[] = []
    page.on('request', (request) => {
      const path = new URL(request.url()).pathname
      if (path.startsWith('/trpc/')) procedures.push(...path.slice('/trpc/'.length).split(','))
    })
    // This tab's own uploads are never "unfinished" (their journal entries are written and removed while they
    // run): the section must not flash up during the drop.
    await page.evaluate(() => {
      const seen = { unfinished: 0 }
      ;(window as unknown as { __unfinishedSeen: typeof seen }).__unfinishedSeen = seen
      new MutationObserver(() => {
        if (document.querySelector('.upkit-unfinished')) seen.unfinished += 1
      }).observe(document.body, { childList: true, subtree: true })
    })
    await page.getByLabel('Attach files').setInputFiles(files)
    const totals = page.locator('.upkit-totals')
    await expect(totals).toContainText('200 files')
    await expect(page.getByRole('list', { name: 'Uploads' }).getByRole('listitem')).toHaveCount(200)
    await expect(page.getByRole('progressbar', { name: 'Total progress' })).toBeVisible()
    mkdirSync(SCREENSHOTS, { recursive: true })
    await page.screenshot({ path: `${SCREENSHOTS}/dropzone-200-files.png` })
    await page.screenshot({ path: `${SCREENSHOTS}/dropzone-200-files-full.png`, fullPage: true })

    await throttleUploads(page, -1)
    const list = page.getByRole('list', { name: 'Attachments' })
    await expect(list.getByRole('listitem')).toHaveCount(200, { timeout: 180_000 })
    await expect(page.getByRole('list', { name: 'Uploads' })).toHaveCount(0, { timeout: 30_000 })
    await page.screenshot({ path: `${SCREENSHOTS}/attachments-200-files.png` })
    // Files added together are created in batches of at most 100, never one call each; the list is refetched
    // once things settle, not once per confirmed file.
    const count = (name: string) => procedures.filter((procedure) => procedure === name).length
    expect(count('uploads.create')).toBe(0)
    expect(count('uploads.createMany')).toBe(2)
    expect(count('uploads.list')).toBeLessThan(20)
    expect(
      await page.evaluate(
        () => (window as unknown as { __unfinishedSeen: { unfinished: number } }).__unfinishedSeen,
      ),
    ).toEqual({ unfinished: 0 })
  })
})
