import type { RouteCall, UploadApi } from '@upkit/core'
import { useCallback, useEffect, useMemo, useState } from 'react'
import { UPKIT_CALL_META, UPKIT_RESUME_META, type UpkitUploader } from './upkit-uploader'
import { callKey, type JournalEntry, mismatchOf } from './upload-journal'
import { claimedUploads } from './upload-locks'
import type { UpkitUppy } from './use-upkit-uppy'

/**
 * How long after a journal change the unfinished list is read again: 150 ms, soon enough for a list that changes
 * when another tab or an earlier page load left something, and a burst of changes is one read.
 */
const LOAD_COALESCE_MS = 150

/** An upload an earlier page load (or another tab) started for this route and input and did not finish. */
export interface UnfinishedUpload {
  readonly uploadId: string
  readonly fileName: string
  readonly mimeType: string
  readonly size: number
  /** About how many bytes reached the bucket (the bucket says exactly once it resumes). */
  readonly bytesSent: number
  /** Whether the browser kept the file: if not, resuming asks for it again. */
  readonly hasFile: boolean
  /** Another open tab is sending it now: only that tab can (one tab owns an upload at a time). */
  readonly elsewhere: boolean
}

export interface UnfinishedUploads {
  readonly unfinished: readonly UnfinishedUpload[]
  /**
   * Carries the upload on: with the file the browser kept, or with `file` (picked again), which must be the same
   * file (size and fingerprint) or it is refused before a byte is sent. Resolves with why it could not start.
   */
  resumeUnfinished(
    uploadId: string,
    file?: File,
  ): Promise<{ readonly error: string } | { readonly id: string }>
  /** Gives the upload up: the server drops it (and its parts), the browser forgets it. */
  discardUnfinished(uploadId: string): Promise<void>
}

/**
 * The unfinished uploads the journal of `uppy`'s `UpkitUploader` remembers for `call`, without those this
 * uploader is sending now. Updated when any tab changes the journal.
 */
export function useUnfinishedUploads(
  uppy: UpkitUppy,
  pluginId: string,
  api: UploadApi<RouteCall>,
  call: RouteCall,
  activeUploadIds: ReadonlySet<string>,
): UnfinishedUploads {
  const journal = (uppy.getPlugin(pluginId) as UpkitUploader | undefined)?.journal ?? null
  const key = callKey(call)
  const [entries, setEntries] = useState<readonly (JournalEntry & { elsewhere: boolean })[]>([])

  useEffect(() => {
    if (!journal) return
    let current = true
    const load = async () => {
      const [all, claimed] = await Promise.all([journal.list(), claimedUploads()])
      if (!current) return
      const uploader = uppy.getPlugin(pluginId) as UpkitUploader | undefined
      setEntries(
        all
          .filter((entry) => callKey(entry.call) === key && !uploader?.holds(entry.uploadId))
          .map((entry) => ({ ...entry, elsewhere: claimed.has(entry.uploadId) })),
      )
    }
    // A drop of 200 files changes the journal 400 times in a few seconds (an entry per upload, removed when it
    // ends): one read of the whole journal per change made the page's work grow with the square of the files.
    // Changes are coalesced instead: at most one read in flight, the next one LOAD_COALESCE_MS after a change.
    let timer: ReturnType<typeof setTimeout> | undefined
    let loading = false
    let again = false
    const run = async () => {
      timer = undefined
      if (loading) {
        again = true
        return
      }
      loading = true
      try {
        await load()
      } catch {
        // A failed read leaves the list as it was; the next change reads again.
      } finally {
        loading = false
        if (again && current) {
          again = false
          schedule()
        }
      }
    }
    const schedule = () => {
      timer ??= setTimeout(() => void run(), LOAD_COALESCE_MS)
    }
    void run()
    const unsubscribe = journal.subscribe(schedule)
    return () => {
      current = false
      if (timer !== undefined) clearTimeout(timer)
      unsubscribe()
    }
  }, [journal, key, uppy, pluginId])

  const unfinished = useMemo(
    () =>
      entries
        .filter((entry) => !activeUploadIds.has(entry.uploadId))
        .map((entry) => ({
          uploadId: entry.uploadId,
          fileName: entry.fileName,
          mimeType: entry.mimeType,
          size: entry.size,
          bytesSent: entry.bytesSent,
          hasFile: entry.file !== null,
          elsewhere: entry.elsewhere,
        })),
    [entries, activeUploadIds],
  )

  const resumeUnfinished = useCallback(
    async (uploadId: string, picked?: File) => {
      const entry = entries.find((candidate) => candidate.uploadId === uploadId)
      if (!entry) return { error: 'This upload is no longer waiting to be resumed.' }
      const claimed = await claimedUploads()
      if (claimed.has(uploadId)) return { error: `"${entry.fileName}" is being uploaded in another tab.` }
      const data = picked ?? entry.file
      if (!data) return { error: `Choose "${entry.fileName}" again to resume it.` }
      if (picked) {
        const mismatch = await mismatchOf(entry, picked)
        if (mismatch) return { error: mismatch }
      }
      try {
        const id = uppy.addFile({
          name: entry.fileName,
          type: entry.mimeType,
          data,
          source: 'upkit-resume',
          meta: { [UPKIT_CALL_META]: entry.call, [UPKIT_RESUME_META]: uploadId },
        })
        return { id }
      } catch (error) {
        return { error: error instanceof Error ? error.message : String(error) }
      }
    },
    [entries, uppy],
  )

  const discardUnfinished = useCallback(
    async (uploadId: string) => {
      // Already gone on the server (expired, or confirmed by its sweeper): forgetting it is all that is left.
      await api.cancel({ uploadId }).catch(() => {})
      await journal?.remove(uploadId)
    },
    [api, journal],
  )

  return { unfinished, resumeUnfinished, discardUnfinished }
}
