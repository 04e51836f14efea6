import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { createTRPCClient, httpBatchLink } from '@trpc/client'
import { UploadManager, uploadApiFromTRPC } from '@upkit/react'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import type { AppRouter } from '../server/app.mjs'

const client = createTRPCClient<AppRouter>({
  links: [httpBatchLink({ url: '/trpc', headers: { 'x-tenant': 'acme' } })],
})
const api = uploadApiFromTRPC(client.uploads)
const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } })

const container = document.getElementById('root')
if (!container) throw new Error('#root is missing from index.html')
createRoot(container).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <h1>Files</h1>
      {/* Buttons, not links: the x-tenant header does not travel with a plain link to /files/<id>. */}
      <UploadManager
        api={api}
        route="file"
        input={{ folder: 'inbox' }}
        listLabel="Files"
        downloads="button"
      />
    </QueryClientProvider>
  </StrictMode>,
)
