import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from '@playwright/test'
import { sha256 } from '../support/journeys'
import {
  explain,
  installedCopies,
  packedAppPerDescribe,
  resolveFromApp,
  SINGLE_COPY_PACKAGES,
  UPKIT_PACKAGES,
} from '../support/packed-app'

// Above the 32 MiB single-PUT limit, so the server plans a multipart upload.
const FILE_SIZE = 40 * 1024 * 1024

test.describe('an app outside the workspace on the packed tarballs', () => {
  const app = packedAppPerDescribe()

  test('every upkit package resolves to its built JavaScript, never to TypeScript source', async () => {
    const wrong: string[] = []
    for (const name of UPKIT_PACKAGES) {
      const resolved = await resolveFromApp(app(), name)
      const expected = new RegExp(`/app/node_modules/${name}/dist/[^/]+\\.mjs$`)
      if (!expected.test(resolved) || /\/src\/|\.(ts|tsx|mts|cts)$/.test(resolved)) {
        wrong.push(`${name} -> ${resolved}`)
      }
    }
    // The schema file store-prisma exports for the app's schema folder.
    const schema = await resolveFromApp(app(), '@upkit/store-prisma/upkit.prisma')
    if (!schema.endsWith('/app/node_modules/@upkit/store-prisma/prisma/upkit.prisma')) {
      wrong.push(`@upkit/store-prisma/upkit.prisma -> ${schema}`)
    }
    expect(wrong, 'packages resolving anywhere but their dist/').toEqual([])
  })

  test('the installed tree holds one copy of each peer and of each upkit package', async () => {
    const { dir } = app()
    const duplicates: string[] = []
    for (const name of SINGLE_COPY_PACKAGES) {
      const copies = installedCopies(dir, name)
      if (copies.length === 1) continue
      const where = copies.map((copy) => `${copy.dir}@${copy.version}`).join(', ')
      duplicates.push(`${name}: ${copies.length} copies (${where})\n${await explain(dir, name)}`)
    }
    expect(duplicates, 'packages installed more than once (or not at all)').toEqual([])
  })

  test('a multipart upload goes straight to the bucket, is confirmed and downloads byte-identical', async ({
    page,
  }) => {
    const { url, scratch, output } = app()
    const bytes = randomBytes(FILE_SIZE)
    // A file on disk, not a buffer: Playwright caps in-memory files at 50 MB.
    const path = join(scratch, 'big.bin')
    writeFileSync(path, bytes)

    const partPuts: string[] = []
    page.on('request', (request) => {
      if (request.method() === 'PUT' && /[?&]partNumber=\d+/.test(request.url())) partPuts.push(request.url())
    })
    await page.goto(url)
    await expect(page.getByText('No files yet.')).toBeVisible()
    await page.getByLabel('Attach files').setInputFiles(path)

    const list = page.getByRole('list', { name: 'Files' })
    const downloadButton = list.getByRole('button', { name: 'Download big.bin' })
    await expect(downloadButton)
      .toBeVisible({ timeout: 60_000 })
      .catch((error: unknown) => {
        // The server's log says why an upload was refused or never confirmed.
        throw new Error(`${error instanceof Error ? error.message : error}\n\napp output:\n${output()}`)
      })
    expect(partPuts.length, 'part PUTs sent to the bucket').toBeGreaterThan(1)
    expect(
      partPuts.every((part) => !part.startsWith(url)),
      'parts went to the bucket, not the app',
    ).toBe(true)

    const download = page.waitForEvent('download')
    await downloadButton.click()
    const file = await download
    expect(file.suggestedFilename()).toBe('big.bin')
    const downloaded = readFileSync(await file.path())
    expect(downloaded.length).toBe(FILE_SIZE)
    expect(sha256(downloaded)).toBe(sha256(bytes))
  })
})
