import { useQueryClient } from '@tanstack/react-query'
import { InlineImagePicker } from '@upkit/react'
import { useCallback } from 'react'
import { Link } from './link'
import { useTRPC } from './trpc'
import { useUploadApi } from './upload-api'

export interface SettingsCompany {
  readonly id: string
  readonly name: string
  /** Where the logo is served (under its content hash), or null when the company has none. */
  readonly logoUrl: string | null
}

/** Company settings: for now, the logo. */
export function SettingsPage({ company }: { company: SettingsCompany }) {
  const trpc = useTRPC()
  const queryClient = useQueryClient()
  const api = useUploadApi()
  // The header and this page read the logo URL from `auth.me`; refreshing it swaps every logo on screen.
  const refreshMe = useCallback(
    () => queryClient.invalidateQueries({ queryKey: trpc.auth.me.queryKey() }),
    [queryClient, trpc],
  )

  return (
    <section className="settings">
      <p>
        <Link href="/">← All tasks</Link>
      </p>
      <h1>Company settings</h1>
      <h2>{company.name} logo</h2>
      {/* The company comes from the session: the logo route takes no input. */}
      <InlineImagePicker
        api={api}
        route="companyLogo"
        input={{}}
        currentUrl={company.logoUrl}
        label="Company logo"
        noun="logo"
        onChange={refreshMe}
      />
    </section>
  )
}
