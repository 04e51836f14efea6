import type { PublicRoutePolicy, RouteCall, UploadApi } from '@upkit/core'
import { useEffect, useState } from 'react'

type Policies = Record<string, PublicRoutePolicy>

/** One request per api object for the whole page: every component of one api shares the answer. */
const cache = new WeakMap<object, Promise<Policies>>()

/**
 * Every route's policy (`uploads.policies`), fetched once per api object. A failed request is forgotten, so the
 * next caller asks again instead of failing forever.
 */
export function policiesOf(api: UploadApi<RouteCall>): Promise<Policies> {
  let policies = cache.get(api)
  if (!policies) {
    policies = api.policies()
    cache.set(api, policies)
    policies.catch(() => {
      if (cache.get(api) === policies) cache.delete(api)
    })
  }
  return policies
}

/** Where a route's policy stands in the browser. */
export type PolicyState<P extends PublicRoutePolicy = PublicRoutePolicy> =
  | { readonly status: 'loading' }
  | { readonly status: 'ready'; readonly policy: P }
  | { readonly status: 'failed'; readonly message: string }

function select<K extends PublicRoutePolicy['type']>(
  policies: Policies,
  route: string,
  type: K,
): PolicyState<Extract<PublicRoutePolicy, { type: K }>> {
  const policy = policies[route]
  if (!policy) return { status: 'failed', message: `The server has no upload route "${route}".` }
  if (policy.type !== type)
    return { status: 'failed', message: `The upload route "${route}" is not a ${type} route.` }
  return { status: 'ready', policy: policy as Extract<PublicRoutePolicy, { type: K }> }
}

/**
 * The policy of `route` (of the given kind), loaded from `api.policies()` unless `override` is given. `reload`
 * asks again after a failure.
 */
export function useRoutePolicy<K extends PublicRoutePolicy['type']>(
  api: UploadApi<RouteCall>,
  route: string,
  type: K,
  override?: Omit<Extract<PublicRoutePolicy, { type: K }>, 'type'>,
): { state: PolicyState<Extract<PublicRoutePolicy, { type: K }>>; reload: () => void } {
  const [state, setState] = useState<PolicyState<Extract<PublicRoutePolicy, { type: K }>>>({
    status: 'loading',
  })
  const [attempt, setAttempt] = useState(0)
  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` is the trigger of a reload
  useEffect(() => {
    if (override) return
    let current = true
    setState({ status: 'loading' })
    policiesOf(api).then(
      (policies) => current && setState(select(policies, route, type)),
      (error: unknown) =>
        current &&
        setState({
          status: 'failed',
          message: `Could not load the upload rules (${error instanceof Error ? error.message : String(error)}).`,
        }),
    )
    return () => {
      current = false
    }
  }, [api, route, type, override, attempt])
  const resolved = override
    ? { status: 'ready' as const, policy: { ...override, type } as Extract<PublicRoutePolicy, { type: K }> }
    : state
  return { state: resolved, reload: () => setAttempt((n) => n + 1) }
}
