/** What a screen reader hears about one file. */
export interface AnnouncedFile {
  readonly id: string
  readonly name: string
  readonly percent: number
  readonly status: string
}

/** What was last announced about one file. */
export interface AnnouncedState {
  /** Quarter steps announced so far (4 = done). */
  readonly step: number
  /** Whether the file was retrying: only the change into "retrying" is announced, not every render of it. */
  readonly retrying: boolean
  /** Whether the file was paused: pausing and resuming are announced once each. */
  readonly paused?: boolean
}

/**
 * Progress announcements, throttled to quarter steps, completion and the start of each retry: a live region
 * updated on every progress tick would talk over everything else. Returns the messages to announce and the
 * state for the next call.
 */
export function progressAnnouncements(
  previous: ReadonlyMap<string, AnnouncedState>,
  files: readonly AnnouncedFile[],
): { messages: string[]; next: Map<string, AnnouncedState> } {
  const next = new Map<string, AnnouncedState>()
  const messages: string[] = []
  for (const file of files) {
    // Step 4 is "done", announced as such rather than as 100 %, which still lacks the server's confirmation.
    const step = file.status === 'done' ? 4 : Math.min(3, Math.floor(file.percent / 25))
    const before = previous.get(file.id) ?? { step: 0, retrying: false }
    const retrying = file.status === 'retrying'
    const paused = file.status === 'paused'
    next.set(file.id, { step: Math.max(step, before.step), retrying, paused })
    // The visible status says so too, but a screen reader would otherwise hear only that progress stopped.
    if (retrying && !before.retrying) messages.push(`${file.name}: connection lost, retrying.`)
    if (paused && !before.paused) messages.push(`${file.name}: paused.`)
    if (!paused && before.paused && file.status === 'uploading') messages.push(`${file.name}: resumed.`)
    if (step <= before.step) continue
    messages.push(step === 4 ? `${file.name} uploaded.` : `${file.name}: ${step * 25}% uploaded.`)
  }
  return { messages, next }
}
