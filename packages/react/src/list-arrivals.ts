/**
 * Collects what arrives in one task and hands it over once, a task later: the files a `confirmMany` answers
 * resolve one by one, and adding each to the list alone would update the query cache, and render the list,
 * once per file. A record added twice before the hand-over goes once, as added last.
 */
export function listArrivals<T extends { readonly id: string }>(apply: (batch: readonly T[]) => void) {
  let waiting = new Map<string, T>()
  let timer: ReturnType<typeof setTimeout> | null = null
  const flush = () => {
    if (timer !== null) clearTimeout(timer)
    timer = null
    if (waiting.size === 0) return
    const batch = [...waiting.values()]
    waiting = new Map()
    apply(batch)
  }
  return {
    add(item: T) {
      waiting.delete(item.id)
      waiting.set(item.id, item)
      // A macrotask, not a microtask: the answers of one call settle through several promise jobs each.
      timer ??= setTimeout(flush, 0)
    },
    /** Hands over what is waiting now (on unmount, or before the list it belongs to changes). */
    flush,
  }
}
