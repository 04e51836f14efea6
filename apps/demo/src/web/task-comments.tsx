import { useQuery, useQueryClient } from '@tanstack/react-query'
import { CommentEditor, renderSafeMarkdown } from '@upkit/react'
import { useCallback, useMemo } from 'react'
import { demoPaths } from '../shared/paths'
import { useTRPC, useTRPCClient } from './trpc'
import { useUploadApi } from './upload-api'

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })

export function TaskComments({ taskId }: { taskId: string }) {
  const trpc = useTRPC()
  const client = useTRPCClient()
  const queryClient = useQueryClient()
  const api = useUploadApi()
  const listOptions = trpc.comments.list.queryOptions({ taskId })
  const comments = useQuery(listOptions)
  const listKey = listOptions.queryKey

  const onSubmit = useCallback(
    async (body: string) => {
      await client.comments.create.mutate({ taskId, body })
      await queryClient.invalidateQueries({ queryKey: listKey })
    },
    [client, taskId, queryClient, listKey],
  )

  return (
    <section className="comments" aria-labelledby="comments-heading">
      <h2 id="comments-heading">Comments</h2>
      {comments.isPending ? <p className="loading">Loading comments…</p> : null}
      {comments.isError ? <p role="alert">{comments.error.message}</p> : null}
      {comments.data && comments.data.length === 0 ? <p className="upkit-empty">No comments yet.</p> : null}
      {comments.data && comments.data.length > 0 ? (
        <ol className="comment-list" aria-label="Comments">
          {comments.data.map((comment) => (
            <li key={comment.id} className="comment">
              <p className="comment-meta">
                <strong>{comment.author.name}</strong>{' '}
                <time dateTime={comment.createdAt}>{timeFormat.format(new Date(comment.createdAt))}</time>
              </p>
              <CommentBody body={comment.body} />
            </li>
          ))}
        </ol>
      ) : null}
      <CommentEditor
        api={api}
        route="commentImage"
        input={{ taskId }}
        paths={demoPaths}
        onSubmit={onSubmit}
      />
    </section>
  )
}

/** Parsed once per body, not on every render of the list (each keystroke in the editor re-renders it). */
function CommentBody({ body }: { body: string }) {
  const rendered = useMemo(
    () => renderSafeMarkdown(body, { imageClassName: 'comment-image', paths: demoPaths }),
    [body],
  )
  return <div className="comment-body">{rendered}</div>
}
