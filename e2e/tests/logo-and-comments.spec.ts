import { expect, type Page, test } from '@playwright/test'
import { demoPerDescribe } from '../support/demo-process'
import { drawPng, naturalWidth, openTask as openTaskByTitle, pasteImage, signIn } from '../support/journeys'

const TASK = 'Ship the new logo'
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
const FILE_REFERENCE = new RegExp(`!\\[shot\\.png\\]\\((/files/${UUID})\\)`)

const openTask = (page: Page) => openTaskByTitle(page, TASK)

test.describe('company logo and comment images', () => {
  const demo = demoPerDescribe()

  test('ada sets a downscaled logo that survives a reload; non-images are refused and change nothing', async ({
    browser,
  }) => {
    const ada = await browser.newPage()
    // The logo's rules arrive only after the file is chosen (a slow connection): the picker waits for them.
    let releaseRules: () => void = () => {}
    const rulesHeld = new Promise<void>((resolve) => {
      releaseRules = resolve
    })
    await ada.route(/\/trpc\/[^?]*uploads\.policies/, async (route) => {
      await rulesHeld
      await route.continue()
    })
    await signIn(ada, demo().url, 'ada@acme.test')
    await expect(ada.getByRole('img', { name: 'Acme logo' })).toHaveCount(0)
    await ada.getByRole('link', { name: 'Company settings' }).click()
    await expect(ada.getByRole('heading', { name: 'Company settings' })).toBeVisible()

    const png = await drawPng(ada, 600, 400)
    const input = ada.getByLabel('Company logo', { exact: true })
    await input.setInputFiles({ name: 'acme-600x400.png', mimeType: 'image/png', buffer: png })
    await expect(ada.getByText('Preparing the image…')).toBeVisible()
    releaseRules()
    // The preview is what will be sent: already fitted into 512x512.
    await expect(ada.getByRole('img', { name: 'New company logo preview' })).toBeVisible()
    await expect(ada.getByText('acme-600x400.png: 512×341')).toBeVisible()
    // By keyboard: the button stays focused while it saves and after (a disabled button would drop focus).
    const save = ada.getByRole('button', { name: 'Save logo' })
    await save.focus()
    await ada.keyboard.press('Enter')

    const headerLogo = ada.getByRole('banner').getByRole('img', { name: 'Acme logo' })
    await expect(headerLogo).toBeVisible()
    await expect(save).toBeFocused()
    await expect(save).toBeDisabled()
    await expect.poll(() => naturalWidth(headerLogo)).toBe(512)
    const src = await headerLogo.getAttribute('src')
    expect(src).toMatch(new RegExp(`^/logos/companyLogo/${UUID}/[0-9a-f]{64}$`))

    // What the database holds is the browser's re-encoding: WebP, small, cached under its hash.
    const served = await ada.request.get(`${demo().url}${src}`)
    expect(served.status()).toBe(200)
    expect(served.headers()['content-type']).toBe('image/webp')
    expect(served.headers()['cache-control']).toContain('immutable')
    expect((await served.body()).length).toBeLessThanOrEqual(256 * 1024)

    await ada.reload()
    await expect(headerLogo).toBeVisible()
    await expect.poll(() => naturalWidth(headerLogo)).toBe(512)
    await expect(ada.getByRole('img', { name: 'Current company logo' })).toBeVisible()

    // A text file named .png, then an SVG (which could carry script): refused in the browser, logo unchanged.
    await input.setInputFiles({
      name: 'logo.png',
      mimeType: 'image/png',
      buffer: Buffer.from('not a picture\n'),
    })
    await expect(ada.getByRole('alert')).toHaveText(
      'That file is not an image: choose a PNG, JPEG, WebP or GIF.',
    )
    await expect(ada.getByRole('button', { name: 'Save logo' })).toBeDisabled()
    await input.setInputFiles({
      name: 'logo.svg',
      mimeType: 'image/svg+xml',
      buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    })
    await expect(ada.getByRole('alert')).toContainText('SVG images are not accepted')
    await expect(ada.getByRole('button', { name: 'Save logo' })).toBeDisabled()
    await ada.reload()
    await expect(headerLogo).toHaveAttribute('src', src as string)
    await expect.poll(() => naturalWidth(headerLogo)).toBe(512)

    // The server checks again and its refusal is shown: bytes swapped in flight for something that is no image.
    await ada.route('**/trpc/uploads.inline.set**', async (route) => {
      const body = route.request().postDataJSON() as Record<string, { imageBase64: string }>
      for (const call of Object.values(body))
        call.imageBase64 = Buffer.from('GIF00 not really').toString('base64')
      await route.continue({ postData: JSON.stringify(body) })
    })
    await input.setInputFiles({ name: 'acme-600x400.png', mimeType: 'image/png', buffer: png })
    await ada.getByRole('button', { name: 'Save logo' }).click()
    await expect(ada.getByRole('alert')).toHaveText(
      'The logo must be a PNG, JPEG, WebP or GIF image (SVG is not accepted).',
    )
    await ada.unroute('**/trpc/uploads.inline.set**')
    await ada.reload()
    await expect(headerLogo).toHaveAttribute('src', src as string)

    // Bob, same company, sees the same logo.
    const bob = await browser.newPage()
    await signIn(bob, demo().url, 'bob@acme.test')
    const bobLogo = bob.getByRole('img', { name: 'Acme logo' })
    await expect(bobLogo).toHaveAttribute('src', src as string)
    await expect.poll(() => naturalWidth(bobLogo)).toBe(512)
  })

  test('a pasted image uploads, lands in the comment, shows for bob and is a 404 for eve', async ({
    browser,
  }) => {
    const ada = await browser.newPage()
    await signIn(ada, demo().url, 'ada@acme.test')
    await openTask(ada)

    const editor = ada.getByLabel('Comment', { exact: true })
    await editor.fill('Here is <b>the</b> screenshot, see [docs](javascript:alert(1)):')
    await pasteImage(editor, 'shot.png')
    await expect(editor).toHaveValue(FILE_REFERENCE, { timeout: 30_000 })
    await expect(editor).not.toHaveValue(/Uploading/)
    const fileUrl = FILE_REFERENCE.exec(await editor.inputValue())?.[1] as string
    await ada.getByRole('button', { name: 'Post comment' }).click()

    const comments = ada.getByRole('list', { name: 'Comments' })
    const comment = comments.getByRole('listitem').filter({ hasText: 'Here is <b>the</b> screenshot' })
    await expect(comment).toContainText('Ada Lovelace')
    // Markup in a comment is text: no <b>, no javascript: link.
    await expect(comment).toContainText('Here is <b>the</b> screenshot, see [docs](javascript:alert(1)):')
    await expect(comment.locator('b, a, script')).toHaveCount(0)
    await expect(editor).toHaveValue('')
    const adaImage = comment.getByRole('img', { name: 'shot.png' })
    await expect(adaImage).toHaveAttribute('src', fileUrl)
    await expect.poll(() => naturalWidth(adaImage)).toBe(320)

    // Bob, same company, another browser context: the image loads through /files/ for him too.
    const bob = await browser.newPage()
    await signIn(bob, demo().url, 'bob@acme.test')
    await openTask(bob)
    const bobImage = bob.getByRole('list', { name: 'Comments' }).getByRole('img', { name: 'shot.png' })
    await expect(bobImage).toBeVisible()
    await expect.poll(() => naturalWidth(bobImage)).toBe(320)
    const forBob = await bob.request.get(`${demo().url}${fileUrl}`, { maxRedirects: 0 })
    expect(forBob.status()).toBe(302)

    // Eve (Globex) gets the same answer as for a file that does not exist.
    const eve = await browser.newPage()
    await signIn(eve, demo().url, 'eve@globex.test')
    const forEve = await eve.request.get(`${demo().url}${fileUrl}`, { maxRedirects: 0 })
    expect(forEve.status()).toBe(404)
    expect(forEve.headers().location).toBeUndefined()
  })

  test('posting while an image uploads waits for it, then posts the finished reference', async ({
    browser,
  }) => {
    const ada = await browser.newPage()
    await signIn(ada, demo().url, 'ada@acme.test')
    await openTask(ada)
    // Hold the bucket PUT so the upload is certainly still in flight when Post is clicked.
    let releasePut: () => void = () => {}
    const putHeld = new Promise<void>((resolve) => {
      releasePut = resolve
    })
    await ada.route(
      (url) => url.pathname.startsWith('/upkit/'),
      async (route) => {
        if (route.request().method() === 'PUT') await putHeld
        await route.continue()
      },
    )

    const editor = ada.getByLabel('Comment', { exact: true })
    await editor.fill('Second try:')
    await pasteImage(editor, 'slow.png')
    await expect(editor).toHaveValue(/!\[Uploading slow\.png…\]\(\)/)
    // The comment route compresses images (WebP), so the upload carries the new type's name; the text keeps the
    // name that was pasted.
    await expect(ada.getByRole('list', { name: 'Image uploads' })).toContainText('slow.webp')
    await ada.getByRole('button', { name: 'Post comment' }).click()
    const waiting = ada.getByRole('button', { name: 'Waiting for 1 image…' })
    await expect(waiting).toBeVisible()
    await expect(waiting).toBeDisabled()
    releasePut()

    const posted = ada
      .getByRole('list', { name: 'Comments' })
      .getByRole('listitem')
      .filter({ hasText: 'Second try:' })
    await expect(posted).toBeVisible({ timeout: 30_000 })
    const image = posted.getByRole('img', { name: 'slow.png' })
    await expect(image).toHaveAttribute('src', new RegExp(`^/files/${UUID}$`))
    await expect.poll(() => naturalWidth(image)).toBe(320)
    await expect(posted).not.toContainText('Uploading')
  })

  test('a refused or failed image blocks posting with the reason; removing it unblocks', async ({
    browser,
  }) => {
    const ada = await browser.newPage()
    await signIn(ada, demo().url, 'ada@acme.test')
    await openTask(ada)
    const editor = ada.getByLabel('Comment', { exact: true })
    await editor.fill('Third try:')

    // Not an image: the shared policy refuses it before any request, and nothing is inserted.
    await editor.evaluate((element) => {
      const data = new DataTransfer()
      data.items.add(new File(['plain text'], 'notes.txt', { type: 'text/plain' }))
      element.dispatchEvent(
        new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
      )
    })
    await expect(ada.getByRole('alert')).toContainText(
      '"notes.txt" is text/plain; comment images must be one of',
    )
    await expect(editor).toHaveValue('Third try:')

    // The bucket refuses the PUT outright (no retry for a 400): the upload fails and posting says why.
    await ada.route(
      (url) => url.pathname.startsWith('/upkit/'),
      (route) =>
        route.request().method() === 'PUT'
          ? route.fulfill({
              status: 400,
              headers: { 'access-control-allow-origin': '*', 'content-type': 'application/xml' },
              body: '<?xml version="1.0"?><Error><Code>InvalidRequest</Code><Message>Refused by the test</Message></Error>',
            })
          : route.continue(),
    )
    await pasteImage(editor, 'broken.png')
    const uploadsList = ada.getByRole('list', { name: 'Image uploads' })
    await expect(
      uploadsList.getByRole('button', { name: 'Retry upload of broken.webp', exact: true }),
    ).toBeVisible({ timeout: 30_000 })
    await ada.getByRole('button', { name: 'Post comment' }).click()
    await expect(ada.getByRole('alert').filter({ hasText: 'Cannot post yet' })).toContainText(
      'broken.webp did not upload',
    )
    await expect(ada.getByRole('list', { name: 'Comments' })).not.toContainText('Third try:')

    await uploadsList.getByRole('button', { name: 'Remove broken.webp' }).click()
    await expect(editor).not.toHaveValue(/Uploading/)
    await ada.getByRole('button', { name: 'Post comment' }).click()
    await expect(ada.getByRole('list', { name: 'Comments' })).toContainText('Third try:')
  })
})
