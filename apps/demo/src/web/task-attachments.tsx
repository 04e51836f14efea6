import { useQuery } from '@tanstack/react-query'
import { UploadManager } from '@upkit/react'
import { useCallback } from 'react'
import { demoPaths } from '../shared/paths'
import { useTRPC } from './trpc'
import { useUploadApi } from './upload-api'

export function TaskAttachments({ taskId, taskTitle }: { taskId: string; taskTitle: string }) {
  const api = useUploadApi()
  const trpc = useTRPC()
  const me = useQuery(trpc.auth.me.queryOptions())
  const myId = me.data?.id
  // The demo has no member directory: the signed-in person's own files say "You", others' only when.
  const uploaderName = useCallback((uploadedBy: string) => (uploadedBy === myId ? 'You' : undefined), [myId])
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
        uploaderName={uploaderName}
        // The task page is about this task: files dropped or pasted anywhere on it are its attachments (the
        // comment editor keeps its own drops and pastes).
        pageDrop={`Drop files to attach to “${taskTitle}”`}
        paste="page"
      />
    </section>
  )
}
