/**
 * One tab sends an upload at a time: the tab sending it holds a Web Lock named after it until the upload ends
 * (or the tab closes, which releases it). Without the Web Locks API (very old browsers) there is no guard: two
 * tabs resuming the same upload would each send parts, and the bucket keeps the last of each, so the file is
 * still whole, just sent twice.
 */
const PREFIX = 'upkit-upload:'

/** Takes the upload's lock if no other tab holds it: resolves with its release, or `null` when it is held. */
export function claimUpload(uploadId: string): Promise<(() => void) | null> {
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks
  if (!locks) return Promise.resolve(() => {})
  return new Promise((resolve, reject) => {
    locks
      .request(`${PREFIX}${uploadId}`, { ifAvailable: true }, (lock) => {
        if (!lock) {
          resolve(null)
          return
        }
        // Held until `release` is called: the lock lives as long as this promise is pending.
        return new Promise<void>((release) => resolve(release))
      })
      .catch(reject)
  })
}

/** The ids of uploads some tab (this one included) is sending now. */
export async function claimedUploads(): Promise<Set<string>> {
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks
  if (!locks) return new Set()
  const { held = [] } = await locks.query()
  return new Set(
    held.flatMap((lock) => (lock.name?.startsWith(PREFIX) ? [lock.name.slice(PREFIX.length)] : [])),
  )
}
