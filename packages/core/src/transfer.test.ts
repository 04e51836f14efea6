import { describe, expect, it } from 'vitest'
import { GiB, MiB } from './sizes'
import {
  MULTIPART_THRESHOLD,
  partContentLength,
  planTransfer,
  S3_MAX_PARTS,
  S3_MIN_PART_SIZE,
} from './transfer'

describe('planTransfer', () => {
  it('sends files up to the threshold in one PUT', () => {
    expect(planTransfer(2 * MiB)).toEqual({ type: 'single', size: 2 * MiB })
    expect(planTransfer(MULTIPART_THRESHOLD).type).toBe('single')
  })

  it('splits larger files into whole-MiB parts within S3 limits', () => {
    for (const size of [MULTIPART_THRESHOLD + 1, 64 * MiB, GiB, 5 * GiB + 123, 700 * GiB]) {
      const plan = planTransfer(size)
      if (plan.type !== 'multipart') throw new Error(`expected multipart for ${size}`)
      expect(plan.partSize).toBeGreaterThanOrEqual(S3_MIN_PART_SIZE)
      expect(plan.partSize % MiB).toBe(0)
      expect(plan.partCount).toBeLessThanOrEqual(S3_MAX_PARTS)
      expect((plan.partCount - 1) * plan.partSize).toBeLessThan(size)
      expect(plan.partCount * plan.partSize).toBeGreaterThanOrEqual(size)
    }
  })

  it('uses 8 MiB parts for a 64 MiB file and 64 MiB parts for 1 GiB', () => {
    expect(planTransfer(64 * MiB)).toMatchObject({ partSize: 8 * MiB, partCount: 8 })
    expect(planTransfer(GiB)).toMatchObject({ partSize: 64 * MiB, partCount: 16 })
  })
})

describe('partContentLength', () => {
  const plan = { size: 20 * MiB + 5, partSize: 8 * MiB, partCount: 3 }

  it('gives full parts and a short last part that add up to the size', () => {
    const lengths = [1, 2, 3].map((n) => partContentLength(plan, n))
    expect(lengths).toEqual([8 * MiB, 8 * MiB, 4 * MiB + 5])
    expect(lengths.reduce((sum: number, n) => sum + (n ?? 0), 0)).toBe(plan.size)
  })

  it('refuses part numbers out of range', () => {
    for (const n of [0, -1, 4, 1.5, Number.NaN]) expect(partContentLength(plan, n)).toBeNull()
  })
})
