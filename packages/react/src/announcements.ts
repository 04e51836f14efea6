/** What a screen reader hears about one file. */
export interface AnnouncedFile {
  readonly id: string
  readonly name: string
  readonly percent: number
  readonly status: string
}

/**
 * Progress announcements, throttled to quarter steps and completion: a live region updated on every progress
 * tick would talk over everything else. Returns the messages to announce and the state for the next call.
 */
export function progressAnnouncements(
  previous: ReadonlyMap<string, number>,
  files: readonly AnnouncedFile[],
): { messages: string[]; next: Map<string, number> } {
  const next = new Map<string, number>()
  const messages: string[] = []
  for (const file of files) {
    // Step 4 is "done", announced as such rather than as 100 %, which still lacks the server's confirmation.
    const step = file.status === 'done' ? 4 : Math.min(3, Math.floor(file.percent / 25))
    const before = previous.get(file.id) ?? 0
    next.set(file.id, Math.max(step, before))
    if (step <= before) continue
    messages.push(step === 4 ? `${file.name} uploaded.` : `${file.name}: ${step * 25}% uploaded.`)
  }
  return { messages, next }
}
