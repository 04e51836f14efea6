import { MiB } from '@upkit/core'
import { describe, expect, it } from 'vitest'
import { formatDuration, summarizeProgress } from './progress'

describe('summarizeProgress', () => {
  it('gives percent, speed and time left from the average rate', () => {
    const summary = summarizeProgress({ loaded: 20 * MiB, total: 100 * MiB, startedAt: 0, now: 2000 })
    expect(summary.percent).toBe(20)
    expect(summary.bytesPerSecond).toBe(10 * MiB)
    expect(summary.secondsLeft).toBe(8)
    expect(summary.label).toBe('10 MiB/s · 8 s left')
  })

  it('says nothing about speed before it can be measured', () => {
    expect(summarizeProgress({ loaded: 0, total: 10, startedAt: 0, now: 5000 }).label).toBe('')
    expect(summarizeProgress({ loaded: 5, total: 10, startedAt: 0, now: 100 }).secondsLeft).toBeNull()
  })

  it('measures speed on the bytes this transfer sent, not the parts a resume found in the bucket', () => {
    const summary = summarizeProgress({
      loaded: 60 * MiB,
      total: 100 * MiB,
      startedAt: 0,
      now: 2000,
      resumedBytes: 40 * MiB,
    })
    expect(summary.percent).toBe(60)
    expect(summary.bytesPerSecond).toBe(10 * MiB)
    expect(summary.secondsLeft).toBe(4)
    expect(
      summarizeProgress({ loaded: 40, total: 100, startedAt: 0, now: 2000, resumedBytes: 40 }).label,
    ).toBe('')
  })

  it('never reports more than 100 percent', () => {
    expect(summarizeProgress({ loaded: 11, total: 10, startedAt: 0, now: 1000 }).percent).toBe(100)
  })
})

describe('formatDuration', () => {
  it('uses the largest sensible units', () => {
    expect(formatDuration(42)).toBe('42 s')
    expect(formatDuration(125)).toBe('2 min 5 s')
    expect(formatDuration(3 * 3600 + 120)).toBe('3 h 2 min')
  })
})
