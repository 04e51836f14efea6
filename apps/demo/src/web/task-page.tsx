import { useQuery } from '@tanstack/react-query'
import { Link } from './link'
import { TaskAttachments } from './task-attachments'
import { TaskComments } from './task-comments'
import { useTRPC } from './trpc'

export function TaskPage({ taskId }: { taskId: string }) {
  const trpc = useTRPC()
  const task = useQuery(trpc.tasks.get.queryOptions({ taskId }))
  if (task.isPending) return <p className="loading">Loading task…</p>
  if (task.isError) return <p role="alert">{task.error.message}</p>
  return (
    <article>
      <p>
        <Link href="/">← All tasks</Link>
      </p>
      <h1>{task.data.title}</h1>
      <p className="description">{task.data.description}</p>
      <TaskAttachments taskId={taskId} taskTitle={task.data.title} />
      <TaskComments taskId={taskId} />
    </article>
  )
}
