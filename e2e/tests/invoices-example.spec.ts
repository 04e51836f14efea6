import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { type APIRequestContext, expect, type Page, test } from '@playwright/test'
import { invoicesPerDescribe } from '../support/invoices-process'
import { drawPng, sha256 } from '../support/journeys'

const INVOICE = 'NW-1001'
const VENDOR = 'Office Supplies Co'

/** A small but well-formed PDF (header, one blank page, xref, trailer) with random bytes in a comment stream. */
function makePdf(): Buffer {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>',
  ]
  const noise = randomBytes(24 * 1024).toString('hex')
  objects.push(`<< /Length ${noise.length + 4} >>\nstream\n% ${noise}\n\nendstream`)
  let body = '%PDF-1.4\n'
  const offsets: number[] = []
  objects.forEach((object, index) => {
    offsets.push(Buffer.byteLength(body))
    body += `${index + 1} 0 obj\n${object}\nendobj\n`
  })
  const xref = Buffer.byteLength(body)
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`
  for (const offset of offsets) body += `${String(offset).padStart(10, '0')} 00000 n \n`
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`
  return Buffer.from(body, 'latin1')
}

/** tRPC over plain HTTP with a bearer token, as any client of the example could call it. */
const bearer = (token: string | null) => (token ? { authorization: `Bearer ${token}` } : {})
const trpcQuery = (
  request: APIRequestContext,
  url: string,
  path: string,
  input: unknown,
  token: string | null,
) =>
  request.get(`${url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, {
    headers: bearer(token),
  })

async function signInByApi(request: APIRequestContext, url: string, email: string): Promise<string> {
  const response = await request.post(`${url}/trpc/auth.signIn`, { data: { email } })
  expect(response.status()).toBe(200)
  return (await response.json()).result.data.token as string
}

async function signIn(page: Page, url: string, email: string) {
  await page.goto(url)
  await page.getByLabel('Email').fill(email)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page.getByRole('heading', { name: 'Invoices' })).toBeVisible()
}

test.describe('the invoices example (a second app on the public API)', () => {
  const app = invoicesPerDescribe()

  test('a member uploads receipts, lists and downloads them; another organization reads none of them', async ({
    browser,
    request,
  }) => {
    const { url } = app()
    const nina = await browser.newPage()
    await signIn(nina, url, 'nina@northwind.test')
    await expect(nina.getByTestId('org-name')).toHaveText('Northwind Traders')
    await nina.getByRole('link', { name: INVOICE }).click()
    await expect(nina.getByRole('heading', { name: `Invoice ${INVOICE}` })).toBeVisible()
    await expect(nina.getByText('No receipts yet.')).toBeVisible()
    const invoiceId = /#\/invoices\/([0-9a-f-]{36})$/.exec(nina.url())?.[1] as string
    expect(invoiceId).toBeTruthy()

    const pdf = makePdf()
    const png = await drawPng(nina, 640, 480)
    await nina.getByLabel('Add receipts').setInputFiles([
      { name: 'receipt-nw-1001.pdf', mimeType: 'application/pdf', buffer: pdf },
      { name: 'till-slip.png', mimeType: 'image/png', buffer: png },
    ])
    const receipts = nina.getByRole('list', { name: 'Receipts' })
    await expect(receipts.getByRole('button', { name: 'Download receipt-nw-1001.pdf' })).toBeVisible()
    await expect(receipts.getByRole('button', { name: 'Download till-slip.png' })).toBeVisible()
    // The count is the app's own column, written by the route's onConfirmed in upkit's confirm transaction.
    await expect(nina.getByTestId('receipt-count')).toHaveText('2')

    for (const [name, bytes] of [
      ['receipt-nw-1001.pdf', pdf],
      ['till-slip.png', png],
    ] as const) {
      const download = nina.waitForEvent('download')
      await receipts.getByRole('button', { name: `Download ${name}` }).click()
      const file = await download
      expect(file.suggestedFilename()).toBe(name)
      expect(sha256(readFileSync(await file.path()))).toBe(sha256(bytes))
    }

    // The list on the invoices page shows the count too, after a reload (it is in the database).
    await nina.goto(`${url}/#/`)
    await expect(nina.getByRole('row', { name: new RegExp(INVOICE) })).toContainText('2')

    // Nina's own token opens her receipt through /files/ (a redirect to a signed GET)...
    const ninaToken = await nina.evaluate(() => localStorage.getItem('invoices-token'))
    const listed = await trpcQuery(
      request,
      url,
      'uploads.list',
      { route: 'receipt', input: { invoiceId } },
      ninaToken,
    )
    expect(listed.status()).toBe(200)
    const records = (await listed.json()).result.data as { id: string; fileName: string }[]
    const pdfId = records.find((record) => record.fileName === 'receipt-nw-1001.pdf')?.id as string
    const own = await request.get(`${url}/files/${pdfId}`, { headers: bearer(ninaToken), maxRedirects: 0 })
    expect(own.status()).toBe(302)
    const viaFiles = await request.get(`${url}/files/${pdfId}`, { headers: bearer(ninaToken) })
    expect(sha256(await viaFiles.body())).toBe(sha256(pdf))

    // ...while Carl (Contoso) and an anonymous caller get nothing, whichever way they ask.
    const carlToken = await signInByApi(request, url, 'carl@contoso.test')
    for (const token of [carlToken, null]) {
      const file = await request.get(`${url}/files/${pdfId}`, { headers: bearer(token), maxRedirects: 0 })
      expect(file.status()).toBe(404)
    }
    const download = await trpcQuery(request, url, 'uploads.download', { uploadId: pdfId }, carlToken)
    expect(download.status()).toBe(404)
    expect(await download.text()).not.toContain('X-Amz-Signature')
    const list = await trpcQuery(
      request,
      url,
      'uploads.list',
      { route: 'receipt', input: { invoiceId } },
      carlToken,
    )
    expect(list.status()).toBe(404)
    const upload = await request.post(`${url}/trpc/uploads.create`, {
      headers: bearer(carlToken),
      data: {
        route: 'receipt',
        input: { invoiceId },
        fileName: 'x.pdf',
        size: 10,
        mimeType: 'application/pdf',
      },
    })
    expect(upload.status()).toBe(404)
    const invoice = await trpcQuery(request, url, 'invoices.get', { invoiceId }, carlToken)
    expect(invoice.status()).toBe(404)

    // Deleting a receipt runs the route's onDeleted: the count follows.
    await nina.getByRole('link', { name: INVOICE }).click()
    await nina
      .getByRole('list', { name: 'Receipts' })
      .getByRole('button', { name: 'Delete till-slip.png' })
      .click()
    await expect(nina.getByRole('button', { name: 'Download till-slip.png' })).toHaveCount(0)
    await expect(nina.getByTestId('receipt-count')).toHaveText('1')
  })

  test("a vendor logo goes into the vendor's row through the inline route; other organizations cannot set it", async ({
    browser,
    request,
  }) => {
    const { url } = app()
    const nina = await browser.newPage()
    await signIn(nina, url, 'nina@northwind.test')
    await nina.getByRole('link', { name: 'Vendors' }).click()
    const vendor = nina.getByRole('region', { name: VENDOR })
    await vendor.getByLabel(`${VENDOR} logo`, { exact: true }).setInputFiles({
      name: 'office-supplies.png',
      mimeType: 'image/png',
      buffer: await drawPng(nina, 400, 300),
    })
    await vendor.getByRole('button', { name: 'Save logo' }).click()
    const current = vendor.getByRole('img', { name: `Current ${VENDOR.toLowerCase()} logo` })
    await expect(current).toBeVisible()
    const src = (await current.getAttribute('src')) as string
    expect(src).toMatch(/^\/inline\/vendorLogo\/[0-9a-f-]{36}\/[0-9a-f]{64}$/)
    const served = await request.get(`${url}${src}`)
    expect(served.status()).toBe(200)
    expect(served.headers()['content-type']).toMatch(/^image\//)

    const vendorId = src.split('/')[3] as string
    const carlToken = await signInByApi(request, url, 'carl@contoso.test')
    const refused = await request.post(`${url}/trpc/uploads.inline.set`, {
      headers: bearer(carlToken),
      data: {
        route: 'vendorLogo',
        input: { vendorId },
        imageBase64: (await served.body()).toString('base64'),
      },
    })
    expect(refused.status()).toBe(404)
    await nina.getByRole('link', { name: 'Northwind Traders' }).click()
    await expect(
      nina.getByRole('row', { name: new RegExp(VENDOR) }).locator(`img[src="${src}"]`),
    ).toHaveCount(1)
  })
})
