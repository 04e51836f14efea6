import { useQuery, useQueryClient } from '@tanstack/react-query'
import type { UploadRecord } from '@upkit/core'
import { AttachmentDropzone, AttachmentList } from '@upkit/react'
import { useCallback } from 'react'
import { useTRPC, useTRPCClient } from './trpc'
import { useUploadApi } from './upload-api'

export function TaskAttachments({ taskId }: { taskId: string }) {
  const trpc = useTRPC()
  const client = useTRPCClient()
  const queryClient = useQueryClient()
  const api = useUploadApi()
  const listOptions = trpc.uploads.list.queryOptions({ taskId })
  const attachments = useQuery(listOptions)
  const listKey = listOptions.queryKey

  const refresh = useCallback(
    () => queryClient.invalidateQueries({ queryKey: listKey }),
    [queryClient, listKey],
  )
  const getDownloadUrl = useCallback(
    async (uploadId: string) => (await client.uploads.download.query({ uploadId })).url,
    [client],
  )
  // The confirmed record is the server's answer already: show it at once, then refetch in the background so the
  // list also picks up what other people attached meanwhile.
  const onUploaded = useCallback(
    (upload: UploadRecord) => {
      queryClient.setQueryData(listKey, (current) =>
        current ? [...current.filter((item) => item.id !== upload.id), upload] : [upload],
      )
      void refresh()
    },
    [queryClient, listKey, refresh],
  )
  const onDelete = useCallback(
    async (uploadId: string) => {
      await client.uploads.delete.mutate({ uploadId })
      await refresh()
    },
    [client, refresh],
  )

  return (
    <section className="attachments" aria-labelledby="attachments-heading">
      <h2 id="attachments-heading">Attachments</h2>
      {attachments.isPending ? <p className="loading">Loading attachments…</p> : null}
      {attachments.isError ? <p role="alert">{attachments.error.message}</p> : null}
      {attachments.data ? (
        <AttachmentList attachments={attachments.data} getDownloadUrl={getDownloadUrl} onDelete={onDelete} />
      ) : null}
      <AttachmentDropzone api={api} taskId={taskId} onUploaded={onUploaded} />
    </section>
  )
}
