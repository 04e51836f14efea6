import { execFile, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { accessSync, constants, readdirSync, rmSync } from 'node:fs'
import { chown, mkdtemp, readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { delimiter, join } from 'node:path'
import pg from 'pg'

export interface TestPostgres {
  /** Superuser URL of the cluster's `postgres` database (trust auth, so no password). */
  url: string
  /** Creates an empty database (default name: random `test_…`) and returns its URL. */
  createDatabaseUrl(name?: string): Promise<string>
  /**
   * `pg_ctl restart -m fast`: every session is cut (clients see their connections terminated), then the server
   * comes back on the same port with the same data. Resolves once it accepts connections again.
   */
  restart(): Promise<void>
  /** Stops the server at once (`-m immediate`, nothing to keep) and deletes its folder. Safe to call twice. */
  stop(): Promise<void>
}

const missingBinaries =
  'PostgreSQL 15 server binaries (initdb, pg_ctl) not found: apt-get install postgresql-15 ' +
  '(Debian; they land in /usr/lib/postgresql/15/bin), or put a folder holding initdb, pg_ctl and postgres on PATH.'

/**
 * Starts a throwaway PostgreSQL cluster in a temp folder on a free 127.0.0.1 port, tuned for tests (no fsync).
 * Runs as the current user, or as `postgres` when we are root, because initdb refuses to run as root.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = findServerBinaries()
  const runAs = process.getuid?.() === 0 ? systemPostgresUser() : null
  const dir = await mkdtemp(join(tmpdir(), 'upkit-pg-'))
  const dataDir = join(dir, 'data')
  const logFile = join(dir, 'postgres.log')
  const asUser = (args: string[]) => (runAs === null ? args : ['runuser', '-u', runAs.name, '--', ...args])
  const run = (args: string[]) => runCommand(asUser(args))

  let stopped = false
  const stopNow = () => {
    if (stopped) return
    stopped = true
    process.off('exit', stopNow)
    // Synchronous so it also works from the 'exit' handler of a test run that died without calling stop().
    const [command = '', ...args] = asUser([
      join(bin, 'pg_ctl'),
      'stop',
      '-D',
      dataDir,
      '-m',
      'immediate',
      '-w',
    ])
    spawnSync(command, args, { stdio: 'ignore' })
    rmSync(dir, { recursive: true, force: true })
  }
  process.on('exit', stopNow)

  try {
    if (runAs !== null) await chown(dir, runAs.uid, runAs.gid)
    // --no-sync: a crash loses a throwaway cluster anyway; -U postgres so URLs look the same for every user.
    await run([
      join(bin, 'initdb'),
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--no-locale',
      '--no-sync',
    ])
    const port = await startServer(run, bin, dataDir, dir, logFile)
    const url = `postgresql://postgres@127.0.0.1:${port}/postgres`
    return {
      url,
      createDatabaseUrl: (name) => createDatabaseUrl(url, name),
      restart: async () => {
        if (stopped) throw new Error('This PostgreSQL cluster was stopped; it cannot restart.')
        // Without -o, pg_ctl restarts with the options of the last start (postmaster.opts): same port and sockets.
        await run([
          join(bin, 'pg_ctl'),
          'restart',
          '-D',
          dataDir,
          '-l',
          logFile,
          '-m',
          'fast',
          '-w',
          '-t',
          '60',
        ])
      },
      stop: async () => stopNow(),
    }
  } catch (error) {
    const log = await readFile(logFile, 'utf8').catch(() => '')
    stopNow()
    if (log === '') throw error
    throw new Error(`${(error as Error).message}\n--- postgres.log ---\n${log.slice(-4000)}`, {
      cause: error,
    })
  }
}

/**
 * Creates an empty database on the server behind `adminUrl` (a superuser URL such as `TestPostgres.url`) and
 * returns its URL. For test files that only got the admin URL from a global setup.
 */
export async function createDatabaseUrl(adminUrl: string, name?: string): Promise<string> {
  const database = name ?? `test_${randomBytes(6).toString('hex')}`
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(database)) {
    throw new Error(
      `Database name ${JSON.stringify(database)} must match [a-z_][a-z0-9_]* (max 63 characters).`,
    )
  }
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    await client.query(`CREATE DATABASE "${database}"`)
  } finally {
    await client.end()
  }
  const url = new URL(adminUrl)
  url.pathname = `/${database}`
  return url.toString()
}

async function startServer(
  run: (args: string[]) => Promise<string>,
  bin: string,
  dataDir: string,
  socketDir: string,
  logFile: string,
): Promise<number> {
  // The port is free when we look but may be taken before postgres binds it; a few tries make that harmless.
  let lastError: unknown
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const settings = [
      `-p ${port}`,
      '-c listen_addresses=127.0.0.1',
      // Our own socket folder: the default /var/run/postgresql may not exist or may belong to a real server.
      `-c unix_socket_directories=${socketDir}`,
      '-c fsync=off',
      '-c full_page_writes=off',
      '-c synchronous_commit=off',
    ]
    try {
      await run([
        join(bin, 'pg_ctl'),
        'start',
        '-D',
        dataDir,
        '-l',
        logFile,
        '-w',
        '-t',
        '60',
        '-o',
        settings.join(' '),
      ])
      return port
    } catch (error) {
      lastError = error
      const log = await readFile(logFile, 'utf8').catch(() => '')
      if (!/could not bind|address already in use/i.test(log)) throw error
    }
  }
  throw lastError
}

function findServerBinaries(): string {
  const pathDirs = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '')
  const debianDirs = (() => {
    try {
      return readdirSync('/usr/lib/postgresql')
        .sort((a, b) => Number(b) - Number(a))
        .map((version) => join('/usr/lib/postgresql', version, 'bin'))
    } catch {
      return []
    }
  })()
  // pg_ctl starts the `postgres` next to it, so all three must come from the same folder.
  const found = [...pathDirs, ...debianDirs].find((dir) =>
    ['initdb', 'pg_ctl', 'postgres'].every((name) => isExecutable(join(dir, name))),
  )
  if (found === undefined) throw new Error(missingBinaries)
  return found
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

function systemPostgresUser(): { name: string; uid: number; gid: number } {
  const result = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
  const groupResult = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' })
  if (result.status !== 0 || groupResult.status !== 0) {
    throw new Error(
      `Running as root (uid ${userInfo().uid}) and initdb refuses root, but there is no "postgres" user to run ` +
        'it as: create one (useradd --system postgres) or run the tests as a normal user.',
    )
  }
  return { name: 'postgres', uid: Number(result.stdout.trim()), gid: Number(groupResult.stdout.trim()) }
}

function runCommand(args: string[]): Promise<string> {
  const [command, ...rest] = args
  return new Promise((resolve, reject) => {
    execFile(command ?? '', rest, { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) {
        reject(
          new Error(`${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`.trim(), {
            cause: error,
          }),
        )
      } else {
        resolve(stdout)
      }
    })
  })
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port)
        else reject(new Error('could not find a free port'))
      })
    })
  })
}
