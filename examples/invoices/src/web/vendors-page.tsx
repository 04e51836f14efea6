import { useQuery, useQueryClient } from '@tanstack/react-query'
import { InlineImagePicker } from '@upkit/react'
import { client, uploads } from './client'

/** Settings: each vendor's logo, stored in our Vendor row through upkit's inline route `vendorLogo`. */
export function VendorsPage() {
  const queryClient = useQueryClient()
  const vendors = useQuery({ queryKey: ['vendors'], queryFn: () => client.vendors.list.query() })
  if (vendors.isPending) return <p className="loading">Loading vendors…</p>
  if (vendors.isError) return <p role="alert">{vendors.error.message}</p>
  return (
    <section>
      <h1>Vendors</h1>
      {vendors.data.map((vendor) => (
        <section key={vendor.id} aria-label={vendor.name} className="vendor">
          <h2>{vendor.name}</h2>
          <InlineImagePicker
            api={uploads}
            route="vendorLogo"
            input={{ vendorId: vendor.id }}
            currentUrl={vendor.logoUrl}
            label={`${vendor.name} logo`}
            noun="logo"
            onChange={() => queryClient.invalidateQueries()}
          />
        </section>
      ))}
    </section>
  )
}
