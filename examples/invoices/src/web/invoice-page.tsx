import { useQuery, useQueryClient } from '@tanstack/react-query'
import { UploadDropzone, UploadList } from '@upkit/react'
import { formatAmount } from './app'
import { client, uploads } from './client'

export function InvoicePage({ invoiceId }: { invoiceId: string }) {
  const invoice = useQuery({
    queryKey: ['invoice', invoiceId],
    queryFn: () => client.invoices.get.query({ invoiceId }),
  })
  if (invoice.isPending) return <p className="loading">Loading invoice…</p>
  if (invoice.isError) return <p role="alert">{invoice.error.message}</p>
  const { number, vendor, amountCents, currency, receiptCount } = invoice.data
  return (
    <article>
      <p>
        <a href="#/">← All invoices</a>
      </p>
      <h1>Invoice {number}</h1>
      <p>
        {vendor.name}: {formatAmount(amountCents, currency)} ·{' '}
        <span data-testid="receipt-count">{receiptCount}</span> {receiptCount === 1 ? 'receipt' : 'receipts'}
      </p>
      <Receipts invoiceId={invoiceId} />
    </article>
  )
}

/** upkit's part of the page: the invoice's receipts (route `receipt`), listed, downloadable, deletable. */
function Receipts({ invoiceId }: { invoiceId: string }) {
  const queryClient = useQueryClient()
  const call = { route: 'receipt', input: { invoiceId } } as const
  const receipts = useQuery({ queryKey: ['receipts', invoiceId], queryFn: () => uploads.list(call) })
  // The receipt count on the invoice is our own column, kept by the route's hooks: refresh both.
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: ['receipts', invoiceId] }),
      queryClient.invalidateQueries({ queryKey: ['invoice', invoiceId] }),
    ])
  return (
    <section aria-labelledby="receipts-heading">
      <h2 id="receipts-heading">Receipts</h2>
      {receipts.isError ? <p role="alert">{receipts.error.message}</p> : null}
      {receipts.data ? (
        <UploadList
          uploads={receipts.data}
          // Buttons, not links: the bearer token does not travel with a plain link to /files/<id>.
          getDownloadUrl={async (uploadId) => (await uploads.download({ uploadId })).url}
          onDelete={(uploadId) => uploads.delete({ uploadId }).then(refresh)}
          label="Receipts"
          emptyText="No receipts yet."
        />
      ) : null}
      <UploadDropzone api={uploads} {...call} label="Add receipts" onUploaded={() => void refresh()} />
    </section>
  )
}
