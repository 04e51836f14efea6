import { UploadManager } from '@upkit/react'
import { useUploadApi } from './upload-api'

export function TaskAttachments({ taskId }: { taskId: string }) {
  const api = useUploadApi()
  return (
    <section className="attachments" aria-labelledby="attachments-heading">
      <h2 id="attachments-heading">Attachments</h2>
      <UploadManager
        api={api}
        route="taskAttachment"
        input={{ taskId }}
        listLabel="Attachments"
        emptyText="No attachments yet."
      />
    </section>
  )
}
