import type { IncomingMessage, ServerResponse } from 'node:http'

export interface OriginCheckOptions {
  /**
   * The origins browsers reach the app at (`https://tasks.example.com`; in dev also `http://127.0.0.1:3000`).
   * Their `host:port` are the only accepted `Host` headers. A function is read on every request, for a port only
   * known once the server listens.
   */
  readonly origins: readonly string[] | (() => readonly string[])
}

/** Refuses a request from elsewhere with 403 and resolves `true`; `false` lets the host handle it. */
export interface OriginGuard {
  (req: IncomingMessage, res: ServerResponse): boolean
  /** Why the request is refused, or `null` when it may proceed. */
  check(req: IncomingMessage): string | null
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * CSRF and DNS-rebinding defence for a cookie-authenticated app. Every request must name one of the app's own
 * hosts in `Host` (a rebound DNS name reaches the right socket with the attacker's name). A state-changing request
 * (any method but GET/HEAD/OPTIONS: every tRPC mutation) from a browser must come from one of `origins`: browsers
 * send `Origin` on every POST and `Sec-Fetch-Site` on every request, and a page cannot forge either. A request
 * with neither is not from a browser, so it cannot carry a victim's cookie by accident and is let through.
 */
export function originCheck(options: OriginCheckOptions): OriginGuard {
  const allowed = () => {
    const origins = typeof options.origins === 'function' ? options.origins() : options.origins
    const normalised = origins.map((origin) => new URL(origin))
    return {
      origins: new Set(normalised.map((url) => url.origin)),
      hosts: new Set(normalised.map((url) => url.host.toLowerCase())),
    }
  }
  const check = (req: IncomingMessage): string | null => {
    const { origins, hosts } = allowed()
    const host = req.headers.host?.toLowerCase()
    if (!host || !hosts.has(host)) return `host ${host ?? '(none)'} is not this app's`
    if (SAFE_METHODS.has(req.method ?? 'GET')) return null
    const site = header(req, 'sec-fetch-site')
    // `none` is a request the user started (typed URL, bookmark); `same-site` is a sibling subdomain, which may
    // be someone else's (a shared hosting suffix), so it is refused like any other site.
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return `a ${site} request`
    const origin = header(req, 'origin')
    if (origin !== undefined && !origins.has(origin)) return `origin ${origin} is not this app's`
    return null
  }
  const guard = ((req: IncomingMessage, res: ServerResponse) => {
    const refusal = check(req)
    if (refusal === null) return false
    res.writeHead(403, {
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    })
    res.end(`Forbidden: ${refusal}.`)
    return true
  }) as OriginGuard
  guard.check = check
  return guard
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}
