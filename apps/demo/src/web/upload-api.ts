import { uploadApiFromTRPC } from '@upkit/react'
import { useMemo } from 'react'
import { useTRPCClient } from './trpc'

/** upkit's procedures (mounted under `uploads`) as the components' api, typed by the demo's routes. */
export function useUploadApi() {
  const client = useTRPCClient()
  // One object per client: components fetch the route policies once per api object.
  return useMemo(() => uploadApiFromTRPC(client.uploads), [client])
}
