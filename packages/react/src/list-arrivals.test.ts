import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { listArrivals } from './list-arrivals'

type Row = { id: string; v: number }

describe('listArrivals', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('hands over what arrived in one task once, a task later', async () => {
    const batches: (readonly Row[])[] = []
    const arrivals = listArrivals<Row>((batch) => batches.push(batch))
    arrivals.add({ id: 'a', v: 1 })
    // As a confirmMany's files resolve: each a few promise jobs after the one before.
    await Promise.resolve().then(() => arrivals.add({ id: 'b', v: 1 }))
    await Promise.resolve().then(() => arrivals.add({ id: 'c', v: 1 }))
    expect(batches).toEqual([])
    await vi.runAllTimersAsync()
    expect(batches).toEqual([
      [
        { id: 'a', v: 1 },
        { id: 'b', v: 1 },
        { id: 'c', v: 1 },
      ],
    ])
    arrivals.add({ id: 'd', v: 1 })
    await vi.runAllTimersAsync()
    expect(batches).toHaveLength(2)
    expect(batches[1]).toEqual([{ id: 'd', v: 1 }])
  })

  it('keeps a record added twice once, as added last', async () => {
    const batches: (readonly Row[])[] = []
    const arrivals = listArrivals<Row>((batch) => batches.push(batch))
    arrivals.add({ id: 'a', v: 1 })
    arrivals.add({ id: 'b', v: 1 })
    arrivals.add({ id: 'a', v: 2 })
    await vi.runAllTimersAsync()
    expect(batches).toEqual([
      [
        { id: 'b', v: 1 },
        { id: 'a', v: 2 },
      ],
    ])
  })

  it('hands over at once on flush, and not again when its task comes', async () => {
    const batches: (readonly Row[])[] = []
    const arrivals = listArrivals<Row>((batch) => batches.push(batch))
    arrivals.flush()
    expect(batches).toEqual([])
    arrivals.add({ id: 'a', v: 1 })
    arrivals.flush()
    expect(batches).toEqual([[{ id: 'a', v: 1 }]])
    await vi.runAllTimersAsync()
    expect(batches).toHaveLength(1)
  })
})
