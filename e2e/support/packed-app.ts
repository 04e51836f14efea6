import { type ChildProcess, execFile, spawn } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { test } from '@playwright/test'
import { startPostgres, type TestPostgres } from '@upkit/testing/postgres'
import { freePort } from './demo-process'

const repoRoot = resolve(import.meta.dirname, '../..')
const templateDir = resolve(import.meta.dirname, '../packed-app')

/** Every upkit package the app installs; each must resolve to built JavaScript in its own node_modules folder. */
export const UPKIT_PACKAGES = [
  '@upkit/core',
  '@upkit/storage',
  '@upkit/server',
  '@upkit/store-prisma',
  '@upkit/react',
  '@upkit/migrate',
  '@upkit/local-s3',
  '@upkit/db',
] as const

/**
 * Packages that must exist once in the installed tree: the host's peers (a second React or Uppy breaks hooks and
 * `instanceof`; a second tRPC or zod breaks router composition and schemas) and upkit itself.
 */
export const SINGLE_COPY_PACKAGES = [
  'react',
  'react-dom',
  '@uppy/core',
  '@uppy/react',
  '@trpc/server',
  '@trpc/client',
  '@tanstack/react-query',
  'zod',
  '@prisma/client',
  ...UPKIT_PACKAGES,
] as const

export interface PackedApp {
  readonly url: string
  /** The app's folder in the temp dir (outside the workspace). */
  readonly dir: string
  /** Scratch space for the test's own files, removed with the app. */
  readonly scratch: string
  /** The Node binary the app was installed, built and started with. */
  readonly node: string
  output(): string
}

/**
 * The app's Node: the pinned Node 24 of scripts/node-binary.mjs, the line upkit's `engines` asks for (the runner's
 * Node may be 20). First on PATH, so npm and every `#!/usr/bin/env node` bin run on it too.
 */
let appNode: string | undefined

/**
 * The environment without the variables pnpm and npm put there when they run us (npm_config_*, NODE_OPTIONS), so
 * npm and the app behave as for a user, with the app's Node first on PATH.
 */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|NODE_OPTIONS$|NODE_PATH$|INIT_CWD$)/i.test(key)) continue
    env[key] = value
  }
  if (appNode) env.PATH = `${dirname(appNode)}:${env.PATH ?? ''}`
  return { ...env, ...extra }
}

/** Runs a command to completion; resolves its stdout, rejects with both streams. */
function run(command: string, args: string[], cwd: string, env = cleanEnv()): Promise<string> {
  return new Promise((resolveRun, reject) => {
    execFile(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}\n${stderr}`))
      } else {
        resolveRun(stdout)
      }
    })
  })
}

/** Runs one phase and records how long it took, so a slow step shows in the test's output. */
function phases() {
  const timings: [string, number][] = []
  return {
    async time<T>(name: string, work: () => Promise<T>): Promise<T> {
      const started = Date.now()
      try {
        return await work()
      } finally {
        timings.push([name, Date.now() - started])
      }
    },
    report: () =>
      timings.map(([name, ms]) => `${name.padEnd(28)} ${(ms / 1000).toFixed(1).padStart(6)} s`).join('\n'),
  }
}

/** `packAndCheck()` of scripts/check-packages.mjs: builds, packs and lints every published package. */
async function packTarballs(into: string): Promise<{ name: string; tarball: string }[]> {
  const script = `
    const { packAndCheck } = await import(${JSON.stringify(join(repoRoot, 'scripts/check-packages.mjs'))})
    process.stdout.write('\\n@@packed ' + JSON.stringify(await packAndCheck()) + '\\n')
  `
  const output = await run(process.execPath, ['--input-type=module', '-e', script], repoRoot)
  const line = output.split('\n').find((l) => l.startsWith('@@packed '))
  if (!line) throw new Error(`packAndCheck printed no tarballs:\n${output}`)
  const packed = JSON.parse(line.slice('@@packed '.length)) as { name: string; tarball: string }[]
  // Copied at once: .tmp/packs is shared with any other check:packages running in the workspace.
  mkdirSync(into, { recursive: true })
  return packed.map(({ name, tarball }) => {
    const copy = join(into, basename(tarball))
    cpSync(tarball, copy)
    return { name, tarball: copy }
  })
}

/** The template's package.json with every upkit package as a `file:` dependency on its tarball. */
function writeManifest(appDir: string, packed: { name: string; tarball: string }[]) {
  const manifest = JSON.parse(readFileSync(join(templateDir, 'package.template.json'), 'utf8'))
  for (const { name, tarball } of packed) {
    manifest.dependencies[name] = `file:${relative(appDir, tarball)}`
  }
  writeFileSync(join(appDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  rmSync(join(appDir, 'package.template.json'))
}

/** Where Node resolves `specifier` from inside the app, as the app's own code would. */
export function resolveFromApp(app: PackedApp, specifier: string): Promise<string> {
  const script = `process.stdout.write(import.meta.resolve(${JSON.stringify(specifier)}))`
  return run(app.node, ['--input-type=module', '-e', script], app.dir).then((out) => out.trim())
}

/** Every installed copy of `name` under the app's node_modules (nested ones included), by folder. */
export function installedCopies(appDir: string, name: string): { dir: string; version: string }[] {
  const copies: { dir: string; version: string }[] = []
  const visit = (nodeModules: string) => {
    if (!existsSync(nodeModules)) return
    const candidate = join(nodeModules, name, 'package.json')
    if (existsSync(candidate)) {
      copies.push({
        dir: relative(appDir, join(nodeModules, name)),
        version: JSON.parse(readFileSync(candidate, 'utf8')).version,
      })
    }
    for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue
      const packages = entry.name.startsWith('@')
        ? readdirSync(join(nodeModules, entry.name)).map((scoped) => join(nodeModules, entry.name, scoped))
        : [join(nodeModules, entry.name)]
      for (const pkg of packages) visit(join(pkg, 'node_modules'))
    }
  }
  visit(join(appDir, 'node_modules'))
  return copies
}

/** `npm explain`, for a failure message that says who pulled a duplicate in. */
export function explain(appDir: string, name: string): Promise<string> {
  return run('npm', ['explain', name], appDir).then(
    (out) => out.slice(0, 3000),
    (error: unknown) => String(error),
  )
}

/**
 * A fresh app outside the workspace on upkit's packed tarballs, for the enclosing `test.describe`: packs every
 * package, copies e2e/packed-app to a temp folder, `npm install`s the tarballs with the template's pinned
 * dependencies, generates the Prisma client and its migration with the installed `upkit-db`, type-checks and
 * compiles with `tsc`, builds the web app with `vite`, and starts the compiled server with plain `node` on a
 * throwaway PostgreSQL (the local S3 server runs inside the app). Everything is removed after the last test.
 */
export function packedAppPerDescribe(): () => PackedApp {
  let root: string | undefined
  let postgres: TestPostgres | undefined
  let child: ChildProcess | undefined
  let app: PackedApp | undefined

  test.beforeAll(async () => {
    test.setTimeout(8 * 60_000)
    const timer = phases()
    const started = Date.now()
    try {
      root = mkdtempSync(join(tmpdir(), 'upkit-packed-app-'))
      const appDir = join(root, 'app')
      const scratch = join(root, 'scratch')
      mkdirSync(scratch)
      const node = (await run(process.execPath, ['scripts/node-binary.mjs', '24'], repoRoot)).trim()
      appNode = node
      console.log(`packed app on Node ${(await run(node, ['--version'], repoRoot)).trim()} (${node})`)
      const packed = await timer.time('pack (build, pack, lint)', () =>
        packTarballs(join(root as string, 'packs')),
      )
      cpSync(templateDir, appDir, { recursive: true })
      writeManifest(appDir, packed)

      // Cached tarballs first: the template pins the workspace's versions, so a warm npm cache serves them.
      await timer.time('npm install', () =>
        run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], appDir),
      )
      const bin = (name: string) => join(appDir, 'node_modules', '.bin', name)
      await timer.time('upkit-db generate', () =>
        run(
          bin('upkit-db'),
          [
            'generate',
            '--schema',
            'prisma/schema',
            '--copy',
            'node_modules/@upkit/store-prisma/prisma/upkit.prisma',
          ],
          appDir,
        ),
      )
      await timer.time('upkit-db migration:create', () =>
        run(
          bin('upkit-db'),
          ['migration:create', '--schema', 'prisma/schema', '--migrations', 'prisma/migrations', 'init'],
          appDir,
        ),
      )
      await timer.time('tsc (server, emits)', () => run(bin('tsc'), ['-p', 'tsconfig.json'], appDir))
      await timer.time('tsc (web, checks)', () => run(bin('tsc'), ['-p', 'tsconfig.web.json'], appDir))
      await timer.time('vite build', () => run(bin('vite'), ['build'], appDir))

      postgres = await timer.time('start PostgreSQL', () => startPostgres())
      const databaseUrl = await postgres.createDatabaseUrl('packed_app')
      const port = await freePort()
      const url = `http://127.0.0.1:${port}`
      let output = ''
      await timer.time('start app (node, healthz)', async () => {
        const server = spawn(node, ['build/server/main.mjs'], {
          cwd: appDir,
          env: cleanEnv({ PORT: String(port), DATABASE_URL: databaseUrl, S3_DIR: join(scratch, 's3') }),
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        child = server
        const collect = (chunk: Buffer) => {
          output += chunk.toString()
        }
        server.stdout?.on('data', collect)
        server.stderr?.on('data', collect)
        const deadline = Date.now() + 60_000
        for (;;) {
          if (server.exitCode !== null)
            throw new Error(`the packed app exited with ${server.exitCode}:\n${output}`)
          const healthy = await fetch(`${url}/healthz`).then(
            (res) => res.status === 200,
            () => false,
          )
          if (healthy) break
          if (Date.now() > deadline) throw new Error(`the packed app was not healthy in 60 s:\n${output}`)
          await new Promise((r) => setTimeout(r, 200))
        }
      })
      app = { url, dir: appDir, scratch, node, output: () => output }
    } finally {
      console.log(
        `packed app phases (${((Date.now() - started) / 1000).toFixed(1)} s in all):\n${timer.report()}`,
      )
    }
  })

  test.afterAll(async () => {
    if (child && child.exitCode === null) {
      const running = child
      const exited = new Promise((r) => running.once('exit', r))
      running.kill('SIGTERM')
      const killer = setTimeout(() => running.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(killer)
    }
    await postgres?.stop()
    if (root) rmSync(root, { recursive: true, force: true })
  })

  return () => {
    if (!app) throw new Error('The packed app starts in beforeAll; read it inside a test.')
    return app
  }
}
