import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { Link } from './link'
import { type SettingsCompany, SettingsPage } from './settings-page'
import { TaskPage } from './task-page'
import { useTRPC } from './trpc'
import { navigate, useLocationPath } from './use-location'

export function App() {
  const trpc = useTRPC()
  const me = useQuery(trpc.auth.me.queryOptions())
  const path = useLocationPath()

  if (me.isPending) return <p className="loading">Loading…</p>
  if (me.isError) return <p role="alert">Could not reach the server: {me.error.message}</p>
  if (!me.data) return <SignIn />

  const taskMatch = /^\/tasks\/([0-9a-f-]{36})$/.exec(path)
  const company = me.data.company
  return (
    <>
      <Header name={me.data.name} email={me.data.email} company={company} />
      <main>
        {taskMatch?.[1] ? (
          <TaskPage taskId={taskMatch[1]} />
        ) : path === '/settings' ? (
          <SettingsPage company={company} />
        ) : (
          <TaskList />
        )}
      </main>
    </>
  )
}

function Header({ name, email, company }: { name: string; email: string; company: SettingsCompany }) {
  const trpc = useTRPC()
  const queryClient = useQueryClient()
  const signOut = useMutation(
    trpc.auth.signOut.mutationOptions({
      onSuccess: () => {
        // Signed out first (the sign-in form replaces every signed-in view), then nothing of the user stays cached.
        // clear() alone left the mounted views showing the old user: their observers keep the last result.
        const meKey = JSON.stringify(trpc.auth.me.queryKey())
        queryClient.setQueryData(trpc.auth.me.queryKey(), null)
        queryClient.removeQueries({ predicate: (query) => JSON.stringify(query.queryKey) !== meKey })
        navigate('/')
      },
    }),
  )
  return (
    <header className="app-header">
      <Link href="/" className="brand">
        {company.logoUrl ? (
          // The URL names the logo's hash, so it is cached forever and changes when the logo does.
          <img className="brand-logo" alt={`${company.name} logo`} src={company.logoUrl} />
        ) : null}
        <span data-testid="company-name">{company.name}</span>
      </Link>
      <Link href="/settings">Company settings</Link>
      <span className="who" title={email}>
        {name}
      </span>
      <button type="button" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
        Sign out
      </button>
    </header>
  )
}

function SignIn() {
  const trpc = useTRPC()
  const queryClient = useQueryClient()
  const [email, setEmail] = useState('')
  const signIn = useMutation(
    trpc.auth.signIn.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.auth.me.queryKey() }),
    }),
  )
  const submit = (event: FormEvent) => {
    event.preventDefault()
    signIn.mutate({ email })
  }
  return (
    <main className="sign-in">
      <h1>upkit demo</h1>
      <p>Demo sign-in: use ada@acme.test, bob@acme.test or eve@globex.test.</p>
      <form onSubmit={submit}>
        <label htmlFor="email">Email</label>
        <input
          id="email"
          name="email"
          type="email"
          autoComplete="email"
          required
          value={email}
          onChange={(event) => setEmail(event.target.value)}
        />
        <button type="submit" disabled={signIn.isPending}>
          Sign in
        </button>
        {signIn.isError ? <p role="alert">{signIn.error.message}</p> : null}
      </form>
    </main>
  )
}

function TaskList() {
  const trpc = useTRPC()
  const tasks = useQuery(trpc.tasks.list.queryOptions())
  if (tasks.isPending) return <p className="loading">Loading tasks…</p>
  if (tasks.isError) return <p role="alert">{tasks.error.message}</p>
  return (
    <section>
      <h1>Tasks</h1>
      <ul className="task-list">
        {tasks.data.map((task) => (
          <li key={task.id}>
            <Link href={`/tasks/${task.id}`}>{task.title}</Link>
          </li>
        ))}
      </ul>
    </section>
  )
}
