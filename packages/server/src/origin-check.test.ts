import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { originCheck } from './origin-check'

const request = (method: string, headers: Record<string, string>) =>
  ({ method, headers }) as unknown as IncomingMessage

describe('originCheck', () => {
  const check = originCheck({ origins: ['https://tasks.example.com', 'http://127.0.0.1:3000'] }).check

  it('lets the app’s own pages, typed navigations and non-browser clients change state', () => {
    const own = {
      host: 'tasks.example.com',
      origin: 'https://tasks.example.com',
      'sec-fetch-site': 'same-origin',
    }
    expect(check(request('POST', own))).toBeNull()
    expect(check(request('POST', { host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000' }))).toBeNull()
    expect(check(request('POST', { host: 'tasks.example.com' }))).toBeNull()
    expect(check(request('GET', { host: 'tasks.example.com', 'sec-fetch-site': 'cross-site' }))).toBeNull()
  })

  it('refuses a cross-site form or fetch, a foreign or opaque Origin, and a sibling subdomain', () => {
    const host = 'tasks.example.com'
    expect(check(request('POST', { host, 'sec-fetch-site': 'cross-site' }))).toMatch(/cross-site/)
    expect(check(request('POST', { host, 'sec-fetch-site': 'same-site' }))).toMatch(/same-site/)
    expect(check(request('POST', { host, origin: 'https://evil.test' }))).toMatch(/evil\.test/)
    expect(check(request('POST', { host, origin: 'null' }))).toMatch(/null/)
    expect(check(request('DELETE', { host, origin: 'http://tasks.example.com' }))).not.toBeNull()
  })

  it('refuses any method naming another host (DNS rebinding) or none', () => {
    expect(check(request('GET', { host: 'rebound.evil.test:3000' }))).toMatch(/rebound/)
    expect(check(request('GET', { host: '127.0.0.1:3001' }))).not.toBeNull()
    expect(check(request('GET', {}))).not.toBeNull()
  })

  it('reads origins given as a function on every request', () => {
    let origins = ['http://127.0.0.1:1']
    const late = originCheck({ origins: () => origins }).check
    expect(late(request('GET', { host: '127.0.0.1:2' }))).not.toBeNull()
    origins = ['http://127.0.0.1:2']
    expect(late(request('GET', { host: '127.0.0.1:2' }))).toBeNull()
  })
})
