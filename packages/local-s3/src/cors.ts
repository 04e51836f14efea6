import { malformedXml, S3Error } from './errors'
import { childrenNamed, childText, el, parseXml, xmlDocument } from './xml'

/** One bucket CORS rule, as in S3's CORSConfiguration. */
export interface CorsRule {
  /** Origins allowed to call the bucket; each may contain one `*` wildcard (e.g. `http://localhost:*`). */
  allowedOrigins: string[]
  /** Methods allowed cross-origin: any of GET, PUT, POST, DELETE, HEAD. */
  allowedMethods: string[]
  /** Request headers a preflight may ask for; `*` wildcards allowed. Default none, as in S3. */
  allowedHeaders?: string[]
  /**
   * Response headers the browser may read. Default `['ETag']` (S3's default is none) because browsers need
   * the part ETags to complete a multipart upload, and forgetting it is the classic CORS bug.
   */
  exposeHeaders?: string[]
  /** How long browsers may cache a preflight answer. Default unset (the browser's own default). */
  maxAgeSeconds?: number
}

const CORS_METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE', 'HEAD'])

function wildcardMatch(pattern: string, value: string, caseInsensitive: boolean): boolean {
  const p = caseInsensitive ? pattern.toLowerCase() : pattern
  const v = caseInsensitive ? value.toLowerCase() : value
  const star = p.indexOf('*')
  if (star === -1) return p === v
  const head = p.slice(0, star)
  const tail = p.slice(star + 1)
  return v.length >= head.length + tail.length && v.startsWith(head) && v.endsWith(tail)
}

/** The first rule allowing this origin and method (and, for a preflight, these request headers). */
export function matchCorsRule(
  rules: CorsRule[] | undefined,
  origin: string,
  method: string,
  requestHeaders: string[] = [],
): CorsRule | undefined {
  return rules?.find(
    (rule) =>
      rule.allowedOrigins.some((o) => wildcardMatch(o, origin, false)) &&
      rule.allowedMethods.includes(method) &&
      requestHeaders.every((h) => (rule.allowedHeaders ?? []).some((a) => wildcardMatch(a, h, true))),
  )
}

export function exposeHeadersOf(rule: CorsRule): string[] {
  return rule.exposeHeaders ?? ['ETag']
}

export function validateCorsRules(rules: CorsRule[]): CorsRule[] {
  if (rules.length === 0 || rules.length > 100) throw malformedXml()
  for (const rule of rules) {
    if (rule.allowedOrigins.length === 0 || rule.allowedMethods.length === 0) throw malformedXml()
    for (const method of rule.allowedMethods) {
      if (!CORS_METHODS.has(method)) {
        throw new S3Error(
          'InvalidRequest',
          400,
          `Found unsupported HTTP method in CORS config. Unsupported method is ${method}`,
        )
      }
    }
    for (const origin of rule.allowedOrigins) {
      if (origin.split('*').length > 2) {
        throw new S3Error(
          'InvalidRequest',
          400,
          `AllowedOrigin "${origin}" can not have more than one wildcard.`,
        )
      }
    }
  }
  return rules
}

export function parseCorsXml(body: string): CorsRule[] {
  const root = parseXml(body)
  if (root.name !== 'CORSConfiguration') throw malformedXml()
  return validateCorsRules(
    childrenNamed(root, 'CORSRule').map((r) => {
      const rule: CorsRule = {
        allowedOrigins: childrenNamed(r, 'AllowedOrigin').map((e) => e.text.trim()),
        allowedMethods: childrenNamed(r, 'AllowedMethod').map((e) => e.text.trim()),
        allowedHeaders: childrenNamed(r, 'AllowedHeader').map((e) => e.text.trim()),
        // An explicit configuration means exactly what it says, so no ETag default here.
        exposeHeaders: childrenNamed(r, 'ExposeHeader').map((e) => e.text.trim()),
      }
      const maxAge = childText(r, 'MaxAgeSeconds')
      if (maxAge !== undefined) {
        if (!/^\d+$/.test(maxAge.trim())) throw malformedXml()
        rule.maxAgeSeconds = Number(maxAge.trim())
      }
      return rule
    }),
  )
}

export function corsXml(rules: CorsRule[]): string {
  const body = rules
    .map(
      (rule) =>
        `<CORSRule>${(rule.allowedHeaders ?? []).map((h) => el('AllowedHeader', h)).join('')}${rule.allowedMethods
          .map((m) => el('AllowedMethod', m))
          .join('')}${rule.allowedOrigins.map((o) => el('AllowedOrigin', o)).join('')}${exposeHeadersOf(rule)
          .map((h) => el('ExposeHeader', h))
          .join('')}${el('MaxAgeSeconds', rule.maxAgeSeconds)}</CORSRule>`,
    )
    .join('')
  return xmlDocument('CORSConfiguration', body)
}
