import { createTRPCClient, httpBatchLink } from '@trpc/client'
import { uploadApiFromTRPC } from '@upkit/react'
import type { AppRouter } from '../server/router'

const TOKEN_KEY = 'invoices-token'

/** The bearer token from sign-in; kept in localStorage, sent on every tRPC call. */
export const token = {
  get: () => localStorage.getItem(TOKEN_KEY),
  set: (value: string | null) =>
    value === null ? localStorage.removeItem(TOKEN_KEY) : localStorage.setItem(TOKEN_KEY, value),
}

export const client = createTRPCClient<AppRouter>({
  links: [
    httpBatchLink({
      url: '/trpc',
      headers: (): Record<string, string> => {
        const value = token.get()
        return value ? { authorization: `Bearer ${value}` } : {}
      },
    }),
  ],
})

/** upkit's procedures as the components' api, typed by this app's routes (`receipt`, `vendorLogo`). */
export const uploads = uploadApiFromTRPC(client.uploads)
