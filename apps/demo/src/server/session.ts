import { createHmac, timingSafeEqual } from 'node:crypto'

export const SESSION_COOKIE = 'upkit_session'
/** A week: long enough for a demo, short enough that a leaked cookie does not live forever. */
const SESSION_MAX_AGE_SECONDS = 7 * 24 * 60 * 60

/**
 * Stateless sessions: the cookie carries `<userId>.<expiry>.<hmac>`. The demo signs in by email only, so the
 * session is the only thing standing between a browser and a tenant's data: it must be unforgeable.
 */
export class SessionCodec {
  constructor(private readonly secret: string) {}

  encode(userId: string, now = Date.now()): string {
    const expires = Math.floor(now / 1000) + SESSION_MAX_AGE_SECONDS
    const payload = `${userId}.${expires}`
    return `${payload}.${this.sign(payload)}`
  }

  decode(token: string | undefined, now = Date.now()): string | null {
    if (!token) return null
    const [userId, expires, signature] = token.split('.')
    if (!userId || !expires || !signature) return null
    const expected = Buffer.from(this.sign(`${userId}.${expires}`))
    const actual = Buffer.from(signature)
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null
    if (Number(expires) * 1000 < now) return null
    return userId
  }

  cookie(userId: string, secure: boolean): string {
    return serializeCookie(this.encode(userId), SESSION_MAX_AGE_SECONDS, secure)
  }

  clearCookie(secure: boolean): string {
    return serializeCookie('', 0, secure)
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url')
  }
}

function serializeCookie(value: string, maxAge: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure ? '; Secure' : ''}`
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=')
    if (key === name) return rest.join('=')
  }
  return undefined
}
