import { useQuery, useQueryClient } from '@tanstack/react-query'
import {
  DEFAULT_UPKIT_PATHS,
  fileUrl,
  type RouteCall,
  type RouteCallOf,
  type UpkitPaths,
  type UploadApi,
  type UploadRecord,
} from '@upkit/core'
import { useCallback, useEffect, useMemo, useRef } from 'react'
import { listArrivals } from './list-arrivals'

export interface UseUploadListOptions<TCall extends RouteCall, TRoute extends TCall['route']> {
  readonly api: UploadApi<TCall>
  /** A bucket route of the server (`'taskAttachment'`). */
  readonly route: TRoute
  /** The route's input (`{ taskId }`); the list is the route's `authorize` answer for it. */
  readonly input: RouteCallOf<TCall, TRoute>['input']
  /** Where the server serves files (for `fileUrl`). Default `DEFAULT_UPKIT_PATHS`; the server's `paths` option. */
  readonly paths?: Partial<UpkitPaths>
}

export interface UploadListState {
  /** The confirmed files, oldest first; `undefined` until the first answer. */
  readonly uploads: readonly UploadRecord[] | undefined
  readonly isPending: boolean
  readonly error: Error | null
  /** Shows a just-confirmed file at once (the server's answer already), then refetches in the background. */
  added(upload: UploadRecord): void
  /** Deletes a file and refreshes the list. */
  remove(uploadId: string): Promise<void>
  /** A short-lived signed URL for a file, asked for when it is needed (never stored). */
  downloadUrl(uploadId: string): Promise<string>
  /** The app's link to a file (`/files/<id>`): authorizes on each visit, then redirects to a signed GET. */
  fileUrl(uploadId: string): string
}

/** Quiet time after the last confirmed file before the list is refetched in the background. */
const REFRESH_AFTER_ADDED_MS = 300
/** How long a file confirmed here stays listed while `list` answers do not have it yet. */
const RECENT_KEPT_MS = 10_000

/** The query key of a route's list, for hosts that invalidate it themselves. */
export function uploadListKey(route: string, input: unknown): readonly unknown[] {
  return ['upkit', 'uploads', route, input]
}

/**
 * The confirmed files of one route and input, kept in the host's TanStack Query cache (so every component showing
 * the same list shares one request), with the add/delete/download wiring every app otherwise writes again.
 */
export function useUploadList<TCall extends RouteCall, TRoute extends TCall['route']>(
  options: UseUploadListOptions<TCall, TRoute>,
): UploadListState {
  const { api, route, input } = options
  const filesPath = options.paths?.files ?? DEFAULT_UPKIT_PATHS.files
  const queryClient = useQueryClient()
  // The input is usually a fresh object literal each render: its JSON is the stable identity.
  const inputJson = JSON.stringify(input)
  const queryKey = useMemo(() => uploadListKey(route, JSON.parse(inputJson)), [route, inputJson])
  const call = useMemo(
    () => ({ route, input: JSON.parse(inputJson) }) as unknown as TCall,
    [route, inputJson],
  )
  // Files confirmed here lately, by id: kept in the list until an answer of `list` has them, so an answer to a
  // request sent before they were confirmed does not take them off the screen again.
  const recent = useRef(new Map<string, { readonly upload: UploadRecord; readonly at: number }>())
  const query = useQuery({
    queryKey,
    queryFn: async () => {
      const listed = await api.list(call)
      const ids = new Set(listed.map((upload) => upload.id))
      const now = Date.now()
      const pending: UploadRecord[] = []
      for (const [id, entry] of recent.current) {
        if (ids.has(id) || now - entry.at > RECENT_KEPT_MS) recent.current.delete(id)
        else pending.push(entry.upload)
      }
      return [...listed, ...pending]
    },
  })
  const refresh = useCallback(() => queryClient.invalidateQueries({ queryKey }), [queryClient, queryKey])
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | null>(null)
  useEffect(
    () => () => {
      if (refreshTimer.current !== null) clearTimeout(refreshTimer.current)
    },
    [],
  )
  // Files confirmed together (one `confirmMany` answers many) go into the list together: one cache update and one
  // render of the list for all of them.
  const arrivals = useMemo(
    () =>
      listArrivals<UploadRecord>((batch) => {
        const ids = new Set(batch.map((upload) => upload.id))
        queryClient.setQueryData<UploadRecord[]>(queryKey, (current) =>
          current ? [...current.filter((item) => !ids.has(item.id)), ...batch] : [...batch],
        )
      }),
    [queryClient, queryKey],
  )
  // Unmounted, or showing another list: what was confirmed for this one still goes into its cache entry.
  useEffect(() => () => arrivals.flush(), [arrivals])
  const added = useCallback(
    (upload: UploadRecord) => {
      recent.current.set(upload.id, { upload, at: Date.now() })
      arrivals.add(upload)
      // Others may have added files meanwhile: one background refetch brings them, after a drop's files have
      // stopped arriving, not one full list per file (200 dropped files would be 200 lists of up to 200 rows).
      if (refreshTimer.current !== null) clearTimeout(refreshTimer.current)
      refreshTimer.current = setTimeout(() => {
        refreshTimer.current = null
        void refresh()
      }, REFRESH_AFTER_ADDED_MS)
    },
    [arrivals, refresh],
  )
  const remove = useCallback(
    async (uploadId: string) => {
      recent.current.delete(uploadId)
      await api.delete({ uploadId })
      await refresh()
    },
    [api, refresh],
  )
  const downloadUrl = useCallback(async (uploadId: string) => (await api.download({ uploadId })).url, [api])
  const linkTo = useCallback(
    (uploadId: string) => fileUrl({ ...DEFAULT_UPKIT_PATHS, files: filesPath }, uploadId),
    [filesPath],
  )
  return {
    uploads: query.data,
    isPending: query.isPending,
    error: query.error,
    added,
    remove,
    downloadUrl,
    fileUrl: linkTo,
  }
}
