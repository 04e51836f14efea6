import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, normalize, sep } from 'node:path'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
}

/**
 * Serves the built web app; unknown paths get index.html so client-side routes survive a reload. Hashed assets
 * are cached forever, index.html never (it names the current hashes).
 */
export function createStaticHandler(root: string) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let pathname: string
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname)
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('Malformed path')
      return
    }
    const candidate = normalize(join(root, pathname))
    const inside = candidate === root || candidate.startsWith(root + sep)
    // Source maps would publish the app's source; a missing asset is a 404, not index.html under a .js name.
    if (
      pathname.endsWith('.map') ||
      (pathname.startsWith('/assets/') && !(inside && (await isFile(candidate))))
    ) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found')
      return
    }
    let file = inside ? candidate : join(root, 'index.html')
    let info = await stat(file).catch(() => null)
    if (!info?.isFile()) {
      file = join(root, 'index.html')
      info = await stat(file).catch(() => null)
    }
    if (!info?.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
      res.end('The web app is not built: run `pnpm --filter @upkit/demo build`.')
      return
    }
    const isAsset = file.includes(`${sep}assets${sep}`)
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': info.size,
      'cache-control': isAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
    })
    if (req.method === 'HEAD') {
      res.end()
      return
    }
    createReadStream(file).pipe(res)
  }
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false
}
