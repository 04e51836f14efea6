import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

export default defineConfig({
  root: 'src/web',
  plugins: [react()],
  // No source maps: they would publish the app's source next to it (the static server 404s *.map regardless).
  build: { outDir: '../../dist', emptyOutDir: true, sourcemap: false },
  server: {
    // `pnpm dev` serves the web app from Vite and proxies the API to the demo server.
    proxy: {
      '/trpc': 'http://127.0.0.1:3000',
      '/healthz': 'http://127.0.0.1:3000',
      '/files': 'http://127.0.0.1:3000',
      '/logos': 'http://127.0.0.1:3000',
    },
  },
})
