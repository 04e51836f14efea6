import { useQuery, useQueryClient } from '@tanstack/react-query'
import type { UploadRecord } from '@upkit/core'
import { UploadDropzone, UploadList } from '@upkit/react'
import { useCallback, useMemo } from 'react'
import { useUploadApi } from './upload-api'

export function TaskAttachments({ taskId }: { taskId: string }) {
  const queryClient = useQueryClient()
  const api = useUploadApi()
  const listKey = useMemo(() => ['uploads', 'taskAttachment', taskId], [taskId])
  const attachments = useQuery({
    queryKey: listKey,
    queryFn: () => api.list({ route: 'taskAttachment', input: { taskId } }),
  })

  const refresh = useCallback(
    () => queryClient.invalidateQueries({ queryKey: listKey }),
    [queryClient, listKey],
  )
  const getDownloadUrl = useCallback(
    async (uploadId: string) => (await api.download({ uploadId })).url,
    [api],
  )
  // The confirmed record is the server's answer already: show it at once, then refetch in the background so the
  // list also picks up what other people attached meanwhile.
  const onUploaded = useCallback(
    (upload: UploadRecord) => {
      queryClient.setQueryData<UploadRecord[]>(listKey, (current) =>
        current ? [...current.filter((item) => item.id !== upload.id), upload] : [upload],
      )
      void refresh()
    },
    [queryClient, listKey, refresh],
  )
  const onDelete = useCallback(
    async (uploadId: string) => {
      await api.delete({ uploadId })
      await refresh()
    },
    [api, refresh],
  )

  return (
    <section className="attachments" aria-labelledby="attachments-heading">
      <h2 id="attachments-heading">Attachments</h2>
      {attachments.isPending ? <p className="loading">Loading attachments…</p> : null}
      {attachments.isError ? <p role="alert">{attachments.error.message}</p> : null}
      {attachments.data ? (
        <UploadList
          uploads={attachments.data}
          getDownloadUrl={getDownloadUrl}
          onDelete={onDelete}
          label="Attachments"
          emptyText="No attachments yet."
        />
      ) : null}
      <UploadDropzone api={api} route="taskAttachment" input={{ taskId }} onUploaded={onUploaded} />
    </section>
  )
}
