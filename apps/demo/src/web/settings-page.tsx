import { useQueryClient } from '@tanstack/react-query'
import { LogoPicker } from '@upkit/react'
import { useCallback } from 'react'
import { Link } from './link'
import { useTRPC, useTRPCClient } from './trpc'

export interface SettingsCompany {
  readonly id: string
  readonly name: string
  readonly logoHash: string | null
}

export function logoUrl(company: SettingsCompany): string | null {
  return company.logoHash ? `/logos/${company.id}/${company.logoHash}` : null
}

/** Company settings: for now, the logo. */
export function SettingsPage({ company }: { company: SettingsCompany }) {
  const trpc = useTRPC()
  const client = useTRPCClient()
  const queryClient = useQueryClient()
  // The header and this page read the logo hash from `auth.me`; refreshing it swaps every logo on screen.
  const refreshMe = useCallback(
    () => queryClient.invalidateQueries({ queryKey: trpc.auth.me.queryKey() }),
    [queryClient, trpc],
  )
  const onSave = useCallback(
    async (imageBase64: string) => {
      await client.logos.set.mutate({ companyId: company.id, imageBase64 })
      await refreshMe()
    },
    [client, company.id, refreshMe],
  )
  const onRemove = useCallback(async () => {
    await client.logos.remove.mutate({ companyId: company.id })
    await refreshMe()
  }, [client, company.id, refreshMe])

  return (
    <section className="settings">
      <p>
        <Link href="/">← All tasks</Link>
      </p>
      <h1>Company settings</h1>
      <h2>{company.name} logo</h2>
      <LogoPicker
        companyId={company.id}
        currentLogoUrl={logoUrl(company)}
        onSave={onSave}
        onRemove={onRemove}
      />
    </section>
  )
}
