import { afterEach, describe, expect, it, vi } from 'vitest'
import { subscribeByFrame } from './use-uppy-frame-state'

function fakeStore() {
  const listeners = new Set<() => void>()
  return {
    subscribe(listener: () => void) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    change: () => {
      for (const listener of listeners) listener()
    },
  }
}

describe('subscribeByFrame', () => {
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
  })

  it('tells React once per animation frame however many changes came in between', () => {
    const frames: (() => void)[] = []
    vi.stubGlobal('requestAnimationFrame', (run: () => void) => frames.push(run))
    vi.stubGlobal('cancelAnimationFrame', () => {})
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const store = fakeStore()
    const notify = vi.fn()
    const unsubscribe = subscribeByFrame(store)(notify)
    for (let i = 0; i < 50; i++) store.change()
    expect(notify).not.toHaveBeenCalled()
    frames.shift()?.()
    expect(notify).toHaveBeenCalledTimes(1)
    // The frame's flush cancelled the fallback timer: no second render for the same changes.
    vi.advanceTimersByTime(1000)
    expect(notify).toHaveBeenCalledTimes(1)
    store.change()
    frames.shift()?.()
    expect(notify).toHaveBeenCalledTimes(2)
    unsubscribe()
    store.change()
    vi.advanceTimersByTime(1000)
    expect(notify).toHaveBeenCalledTimes(2)
  })

  it('still tells React within 100 ms where no frame runs (a hidden tab)', () => {
    vi.stubGlobal('requestAnimationFrame', () => 1)
    vi.stubGlobal('cancelAnimationFrame', () => {})
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const store = fakeStore()
    const notify = vi.fn()
    subscribeByFrame(store)(notify)
    store.change()
    store.change()
    vi.advanceTimersByTime(99)
    expect(notify).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(notify).toHaveBeenCalledTimes(1)
  })
})
