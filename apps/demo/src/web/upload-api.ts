import type { UploadApi } from '@upkit/core'
import { useMemo } from 'react'
import { useTRPCClient } from './trpc'

/** The tRPC client as upkit's `UploadApi`: one line per procedure. */
export function useUploadApi(): UploadApi {
  const client = useTRPCClient()
  return useMemo(
    () => ({
      create: (input) => client.uploads.create.mutate(input),
      sign: (input) => client.uploads.sign.mutate(input),
      signParts: (input) => client.uploads.signParts.mutate(input),
      confirm: (input) => client.uploads.confirm.mutate(input),
      cancel: (input) => client.uploads.cancel.mutate(input),
    }),
    [client],
  )
}
