import { createHash } from 'node:crypto'
import { expect, type Locator, type Page } from '@playwright/test'
import { DRAW_PNG } from '../engines/in-page'

/** Steps every journey shares, written once so a UI change is fixed in one place. */

export const sha256 = (bytes: Buffer | Uint8Array) => createHash('sha256').update(bytes).digest('hex')

export async function signIn(page: Page, baseUrl: string, email: string) {
  await page.goto(baseUrl)
  await page.getByLabel('Email').fill(email)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page.getByRole('heading', { name: 'Tasks' })).toBeVisible()
}

/** Opens a task from the home page; resolves its id. */
export async function openTask(page: Page, title: string): Promise<string> {
  await page.getByRole('link', { name: title }).click()
  await expect(page.getByRole('heading', { name: 'Attachments' })).toBeVisible()
  await expect(page.getByRole('heading', { name: 'Comments' })).toBeVisible()
  const taskId = /\/tasks\/([0-9a-f-]{36})$/.exec(page.url())?.[1]
  if (!taskId) throw new Error(`no task id in ${page.url()}`)
  return taskId
}

/** A real PNG drawn by the browser's own canvas (shapes and a gradient, so it is not trivially compressible). */
export async function drawPng(page: Page, width: number, height: number): Promise<Buffer> {
  // The drawing every engine's journeys use (engines/in-page.ts), as source text: one picture, one place.
  const base64 = await page.evaluate<string>(`(${DRAW_PNG})(${JSON.stringify({ width, height })})`)
  return Buffer.from(base64, 'base64')
}

/** Pastes a canvas-drawn PNG into `target` the way a browser does: a `paste` event carrying a DataTransfer. */
export async function pasteImage(target: Locator, name: string) {
  await target.evaluate((element, fileName) => {
    const canvas = document.createElement('canvas')
    canvas.width = 320
    canvas.height = 200
    const context = canvas.getContext('2d') as CanvasRenderingContext2D
    context.fillStyle = '#0a7'
    context.fillRect(0, 0, 320, 200)
    context.fillStyle = '#fff'
    context.fillRect(40, 40, 120, 80)
    return new Promise<void>((resolve, reject) => {
      canvas.toBlob((blob) => {
        if (!blob) return reject(new Error('canvas gave no PNG'))
        void blob.arrayBuffer().then((bytes) => {
          const data = new DataTransfer()
          data.items.add(new File([bytes], fileName, { type: 'image/png' }))
          ;(element as HTMLTextAreaElement).focus()
          element.dispatchEvent(
            new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
          )
          resolve()
        }, reject)
      }, 'image/png')
    })
  }, name)
}

export const naturalWidth = (image: Locator) =>
  image.evaluate((element) => (element as HTMLImageElement).naturalWidth)

/**
 * Caps the page's upload speed (Chromium network emulation), so a test can act while an upload is in flight:
 * cancel it, or take storage down under it.
 */
export async function throttleUploads(page: Page, bytesPerSecond: number) {
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  })
}
