import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState, useSyncExternalStore } from 'react'
import { client, token } from './client'
import { InvoicePage } from './invoice-page'
import { VendorsPage } from './vendors-page'

/** Hash routes (`#/invoices/<id>`, `#/vendors`): three pages need no router. */
function useHashPath(): string {
  return useSyncExternalStore(
    (onChange) => {
      window.addEventListener('hashchange', onChange)
      return () => window.removeEventListener('hashchange', onChange)
    },
    () => window.location.hash.slice(1) || '/',
  )
}

export const formatAmount = (cents: number, currency: string) =>
  new Intl.NumberFormat('en', { style: 'currency', currency }).format(cents / 100)

export function App() {
  const queryClient = useQueryClient()
  const me = useQuery({ queryKey: ['me'], queryFn: () => client.auth.me.query() })
  const path = useHashPath()
  const signOut = useMutation({
    mutationFn: () => client.auth.signOut.mutate(),
    onSettled: () => {
      token.set(null)
      queryClient.clear()
      window.location.hash = '/'
      void queryClient.invalidateQueries()
    },
  })

  if (me.isPending) return <p className="loading">Loading…</p>
  if (me.isError) return <p role="alert">Could not reach the server: {me.error.message}</p>
  if (!me.data) return <SignIn />
  const invoiceId = /^\/invoices\/([0-9a-f-]{36})$/.exec(path)?.[1]
  return (
    <>
      <header className="app-header">
        <a href="#/" className="brand" data-testid="org-name">
          {me.data.org.name}
        </a>
        <a href="#/vendors">Vendors</a>
        <span title={me.data.email}>{me.data.name}</span>
        <button type="button" onClick={() => signOut.mutate()}>
          Sign out
        </button>
      </header>
      <main>
        {invoiceId ? (
          <InvoicePage invoiceId={invoiceId} />
        ) : path === '/vendors' ? (
          <VendorsPage />
        ) : (
          <Invoices />
        )}
      </main>
    </>
  )
}

function SignIn() {
  const queryClient = useQueryClient()
  const [email, setEmail] = useState('')
  const signIn = useMutation({
    mutationFn: () => client.auth.signIn.mutate({ email }),
    onSuccess: ({ token: value }) => {
      token.set(value)
      return queryClient.invalidateQueries({ queryKey: ['me'] })
    },
  })
  const submit = (event: FormEvent) => {
    event.preventDefault()
    signIn.mutate()
  }
  return (
    <main className="sign-in">
      <h1>Invoices</h1>
      <p>Example sign-in: nina@northwind.test, omar@northwind.test or carl@contoso.test.</p>
      <form onSubmit={submit}>
        <label htmlFor="email">Email</label>
        <input id="email" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <button type="submit" disabled={signIn.isPending}>
          Sign in
        </button>
        {signIn.isError ? <p role="alert">{signIn.error.message}</p> : null}
      </form>
    </main>
  )
}

function Invoices() {
  const invoices = useQuery({ queryKey: ['invoices'], queryFn: () => client.invoices.list.query() })
  if (invoices.isPending) return <p className="loading">Loading invoices…</p>
  if (invoices.isError) return <p role="alert">{invoices.error.message}</p>
  return (
    <section>
      <h1>Invoices</h1>
      <table className="invoices">
        <thead>
          <tr>
            <th scope="col">Number</th>
            <th scope="col">Vendor</th>
            <th scope="col">Amount</th>
            <th scope="col">Receipts</th>
          </tr>
        </thead>
        <tbody>
          {invoices.data.map((invoice) => (
            <tr key={invoice.id}>
              <td>
                <a href={`#/invoices/${invoice.id}`}>{invoice.number}</a>
              </td>
              <td>
                {invoice.vendor.logoUrl ? (
                  <img className="vendor-logo" src={invoice.vendor.logoUrl} alt="" />
                ) : null}
                {invoice.vendor.name}
              </td>
              <td>{formatAmount(invoice.amountCents, invoice.currency)}</td>
              <td>{invoice.receiptCount}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}
