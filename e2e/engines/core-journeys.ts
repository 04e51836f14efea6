import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { MULTIPART_THRESHOLD } from '@upkit/core'
import type { EnginePage, Target } from './driver'
import { DRAW_PNG, ENCODES_WEBP, PASTE_IMAGE } from './in-page'
import {
  check,
  expectCount,
  expectRead,
  expectText,
  expectVisible,
  fetchDigest,
  openTask,
  signIn,
} from './journey-steps'
import { withOutageDemo } from './outage-setup'

/**
 * upkit's core journeys, written once against `EnginePage` and run by every engine: Chromium in Playwright's
 * runner (tests/core-journeys.spec.ts), Firefox ESR and WebKitGTK by `pnpm --filter @upkit/e2e test:engines`.
 */

export interface JourneyEnv {
  /** The demo every journey but the outage shares (each engine has its own, on a fresh data folder). */
  readonly demoUrl: string
  /** A folder for the files a journey writes to disk to choose them. */
  readonly workDir: string
}

export interface Journey {
  readonly name: string
  run(page: EnginePage, env: JourneyEnv): Promise<void>
}

const MiB = 1024 * 1024
const TASK = 'Ship the new logo'
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
const attachments = { role: 'list', name: 'Attachments' } as const
const downloadLink = (name: string): Target => ({
  role: 'link',
  name: `Download ${name}`,
  within: attachments,
})

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

function writeRandomFile(dir: string, name: string, size: number) {
  mkdirSync(dir, { recursive: true })
  const bytes = randomBytes(size)
  const path = join(dir, name)
  writeFileSync(path, bytes)
  return { path, name, size, sha256: sha256(bytes) }
}

/** Downloads an attachment through its link's URL and checks it against what was chosen. */
async function expectDownload(page: EnginePage, file: { name: string; size: number; sha256: string }) {
  const href = await expectRead(
    page,
    downloadLink(file.name),
    'href',
    new RegExp(`^/files/${UUID}\\?download$`),
  )
  const got = await fetchDigest(page, href)
  check(
    got.status === 200 && got.bytes === file.size && got.sha256 === file.sha256,
    `${file.name} did not download byte-identical (${file.size} bytes, sha256 ${file.sha256})`,
    got,
  )
}

const attachAndDownload: Journey = {
  name: 'sign in, attach a single-PUT and a multipart file, both download byte-identical',
  run: async (page, env) => {
    const small = writeRandomFile(env.workDir, 'notes-2mib.bin', 2 * MiB)
    // Past the threshold planTransfer splits at, so this one goes up as a multipart upload.
    const big = writeRandomFile(env.workDir, 'recording-40mib.bin', MULTIPART_THRESHOLD + 8 * MiB)
    await signIn(page, env.demoUrl, 'ada@acme.test')
    await openTask(page, TASK)
    await page.setFiles({ label: 'Attach files' }, [small.path, big.path])
    await expectVisible(page, downloadLink(small.name), 120_000)
    await expectVisible(page, downloadLink(big.name), 120_000)
    await expectRead(page, attachments, 'text', (text) => text.includes('2 MiB') && text.includes('40 MiB'))
    await expectDownload(page, small)
    await expectDownload(page, big)
  },
}

const companyLogo: Journey = {
  name: 'set a company logo, downscaled in the browser, that survives a reload',
  run: async (page, env) => {
    await signIn(page, env.demoUrl, 'ada@acme.test')
    await page.click({ role: 'link', name: 'Company settings' })
    await expectVisible(page, { role: 'heading', name: 'Company settings' })
    const png = join(env.workDir, 'acme-600x400.png')
    mkdirSync(env.workDir, { recursive: true })
    writeFileSync(
      png,
      Buffer.from(await page.evaluate<string>(DRAW_PNG, { width: 600, height: 400 }), 'base64'),
    )
    await page.setFiles({ label: 'Company logo' }, [png])
    // The preview is what will be sent: already fitted into 512x512 by this engine's canvas.
    await expectVisible(page, { role: 'img', name: 'New company logo preview' })
    await expectText(page, 'acme-600x400.png: 512×341')
    await page.click({ role: 'button', name: 'Save logo' })

    const headerLogo: Target = { role: 'img', name: 'Acme logo', within: { role: 'banner' } }
    await expectRead(page, headerLogo, 'naturalWidth', '512')
    const src = await expectRead(
      page,
      headerLogo,
      'src',
      new RegExp(`/logos/companyLogo/${UUID}/[0-9a-f]{64}$`),
    )
    // WebP, or PNG from an engine without a WebP encoder (WebKit): the picker's documented fallback.
    const expectedType = (await page.evaluate<boolean>(ENCODES_WEBP)) ? 'image/webp' : 'image/png'
    const served = await fetchDigest(page, src)
    check(
      served.status === 200 && served.type === expectedType && served.bytes <= 256 * 1024,
      `the stored logo should be this engine's ${expectedType} of at most 256 KiB`,
      served,
    )

    await page.goto(`${env.demoUrl}/settings`)
    await expectRead(page, headerLogo, 'src', src)
    await expectRead(page, headerLogo, 'naturalWidth', '512')
    await expectVisible(page, { role: 'img', name: 'Current company logo' })
  },
}

const pastedImage: Journey = {
  name: 'paste an image into a comment, which uploads and shows in the posted comment',
  run: async (page, env) => {
    await signIn(page, env.demoUrl, 'ada@acme.test')
    await openTask(page, TASK)
    const editor: Target = { label: 'Comment' }
    const text = `Pasted in ${page.engine}:`
    await page.fill(editor, text)
    const pasted = await page.evaluate<number>(PASTE_IMAGE, { target: editor, name: 'shot.png' })
    check(pasted === 1, 'the paste event should carry the image', pasted)
    const reference = new RegExp(`!\\[shot\\.png\\]\\((/files/${UUID})\\)`)
    const value = await expectRead(page, editor, 'value', reference, 60_000)
    const fileUrl = reference.exec(value)?.[1] as string
    check(value.startsWith(text), 'the pasted image goes after the text typed before it', value)
    await page.click({ role: 'button', name: 'Post comment' })

    const image: Target = { role: 'img', name: 'shot.png', within: { role: 'list', name: 'Comments' } }
    await expectRead(page, image, 'src', (src) => src.endsWith(fileUrl))
    await expectRead(page, image, 'naturalWidth', '320')
    await expectRead(page, editor, 'value', '')
  },
}

const storageOutage: Journey = {
  name: 'a 10 s storage outage during a multipart upload ends in a complete, byte-identical file',
  run: (page, env) =>
    withOutageDemo(join(env.workDir, 'outage'), async (outage) => {
      const file = writeRandomFile(env.workDir, 'survives-outage.bin', 96 * MiB)
      await signIn(page, outage.url, 'ada@acme.test')
      await openTask(page, TASK)
      await page.setFiles({ label: 'Attach files' }, [file.path])
      const progress: Target = { role: 'progressbar', name: `Upload of ${file.name}` }
      await expectRead(page, progress, 'value', (value) => Number(value) > 15, 60_000)

      await outage.stopStorage()
      await expectText(page, 'Connection lost, retrying…')
      // The outage itself: storage stays down this long while the uploader keeps retrying.
      await new Promise((resolve) => setTimeout(resolve, 10_000))
      await outage.startStorage()

      await expectVisible(page, downloadLink(file.name), 120_000)
      await expectCount(page, { role: 'alert' }, 0)
      await expectDownload(page, file)
    }),
}

export const coreJourneys: readonly Journey[] = [attachAndDownload, companyLogo, pastedImage, storageOutage]
