import { UploadManager } from '@upkit/react'
import { demoPaths } from '../shared/paths'
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
        // Downloads are links to /files/<id>: the session cookie travels with them, so they can be shared.
        paths={demoPaths}
        listLabel="Attachments"
        emptyText="No attachments yet."
      />
    </section>
  )
}
