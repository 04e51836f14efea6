import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

export default defineConfig({
  root: 'src/web',
  plugins: [react()],
  build: { outDir: '../../dist', emptyOutDir: true, sourcemap: true },
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
