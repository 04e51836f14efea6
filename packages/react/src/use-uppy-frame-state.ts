import type { Body, Meta, State, Uppy } from '@uppy/core'
import { useCallback, useMemo, useSyncExternalStore } from 'react'

/**
 * A hidden tab runs no animation frames: its changes still show within this long, so the page is current when
 * the person comes back (and announcements made while hidden are not held back for good).
 */
const HIDDEN_TAB_DELAY_MS = 100

/**
 * `useUppyState` from `@uppy/react`, re-rendering at most once per animation frame. Uppy changes its state on
 * every event of every file (queued, each progress tick, confirmed), each in a task of its own, so React would
 * render the whole upload list once per event, each render O(files). Measured on a drop of 200 x 100 KiB
 * (`pnpm bench`, with single PUTs journaled after `journalAfterMs`): the page's main thread went from 7.6 to
 * 4.3 ms per file. The screen cannot show more than one state per frame anyway.
 */
export function useUppyFrameState<M extends Meta, B extends Body, TSelected>(
  uppy: Uppy<M, B>,
  /** Must answer a part of the state as it is (no new object), as `useSyncExternalStore` compares by identity. */
  selector: (state: State<M, B>) => TSelected,
): TSelected {
  const { store } = uppy
  const subscribe = useMemo(() => subscribeByFrame(store), [store])
  const getSnapshot = useCallback(() => selector(store.getState() as State<M, B>), [store, selector])
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot)
}

/**
 * `subscribe` for `useSyncExternalStore` that calls the listener at most once per animation frame (or after
 * HIDDEN_TAB_DELAY_MS, whichever comes first) however many changes the store made meanwhile.
 */
export function subscribeByFrame(store: { subscribe(listener: () => void): () => void }) {
  return (notify: () => void): (() => void) => {
    let frame: number | null = null
    let timer: ReturnType<typeof setTimeout> | null = null
    const cancel = () => {
      if (frame !== null) cancelAnimationFrame(frame)
      if (timer !== null) clearTimeout(timer)
      frame = null
      timer = null
    }
    const flush = () => {
      cancel()
      notify()
    }
    const unsubscribe = store.subscribe(() => {
      if (timer !== null) return
      if (typeof requestAnimationFrame === 'function') frame = requestAnimationFrame(flush)
      timer = setTimeout(flush, HIDDEN_TAB_DELAY_MS)
    })
    return () => {
      unsubscribe()
      cancel()
    }
  }
}
