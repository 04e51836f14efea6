import type { ClientRequest } from 'node:http'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

const API = 'http://127.0.0.1:3000'

export default defineConfig({
  root: 'src/web',
  plugins: [react()],
  // No source maps: they would publish the app's source next to it (the static server 404s *.map regardless).
  build: { outDir: '../../dist', emptyOutDir: true, sourcemap: false },
  server: {
    // `pnpm dev` serves the web app from Vite and proxies the API to the demo server.
    // The server accepts its own origin only: the proxy speaks as that origin, being the page's same-origin party.
    proxy: Object.fromEntries(
      ['/trpc', '/healthz', '/files', '/logos'].map((path) => [
        path,
        {
          target: API,
          changeOrigin: true,
          configure: (proxy: { on(event: 'proxyReq', listener: (req: ClientRequest) => void): void }) =>
            proxy.on('proxyReq', (req) => {
              if (req.getHeader('origin')) req.setHeader('origin', API)
            }),
        },
      ]),
    ),
  },
})
