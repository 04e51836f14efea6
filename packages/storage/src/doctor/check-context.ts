import type { DoctorClient } from './doctor-client'
import { accessFix, describeAnswer, type S3Answer } from './s3-answer'
import type { DoctorStatus } from './types'

export interface CheckContext {
  readonly client: DoctorClient
  /** A folder of keys only this check uses (`upkit-doctor/<run>/<check>/`). */
  readonly prefix: string
  /** Aborted when the check's time is up. */
  readonly signal: AbortSignal
  readonly origin: string | undefined
  readonly keyPrefix: string
  /** Runs after the check, whatever happened (time-out included): every object and upload it made goes. */
  defer(cleanup: () => Promise<unknown>): void
}

export interface CheckOutcome {
  readonly status: DoctorStatus
  readonly detail: string
  readonly fix?: string
}

export const ok = (detail: string): CheckOutcome => ({ status: 'ok', detail })

/** A refused step: named with what was tried, fixed by the access fix when the refusal is about access. */
export function refused(step: string, answer: S3Answer, ctx: CheckContext, otherwise: string): CheckOutcome {
  const fix = accessFix(answer, ctx.client.config)
  return { status: 'fail', detail: `${step}: ${describeAnswer(answer)}`, fix: fix ?? otherwise }
}

/** 5 MiB of one repeated byte: S3's smallest allowed non-last part, cheap to build. */
export const partBody = (size: number, fill: number) => new Uint8Array(size).fill(fill)
