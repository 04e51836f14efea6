import { createHmac, timingSafeEqual } from 'node:crypto'

export const SESSION_COOKIE = 'upkit_session'
/** A week: long enough for a demo, short enough that a leaked cookie does not live forever. */
export const SESSION_MAX_AGE_SECONDS = 7 * 24 * 60 * 60

/**
 * The cookie carries `<sessionId>.<hmac>`; the session row says whose it is and until when. The signature lets a
 * forged or guessed cookie be refused without a query; the row is what sign-out deletes, so a copied cookie dies
 * with it.
 */
export class SessionCodec {
  constructor(private readonly secret: string) {}

  encode(sessionId: string): string {
    return `${sessionId}.${this.sign(sessionId)}`
  }

  decode(token: string | undefined): string | null {
    if (!token) return null
    const [sessionId, signature, ...rest] = token.split('.')
    if (!sessionId || !signature || rest.length > 0) return null
    const expected = Buffer.from(this.sign(sessionId))
    const actual = Buffer.from(signature)
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null
    return sessionId
  }

  cookie(sessionId: string, secure: boolean): string {
    return serializeCookie(this.encode(sessionId), SESSION_MAX_AGE_SECONDS, secure)
  }

  clearCookie(secure: boolean): string {
    return serializeCookie('', 0, secure)
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url')
  }
}

// SameSite=Lax: a cross-site form POST or fetch does not carry the cookie at all (the origin check is the second
// line, for browsers that treat Lax loosely and for same-site attackers).
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
