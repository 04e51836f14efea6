// `pnpm --filter @upkit/bench bundle-size` (first step of `pnpm bench`): what `@upkit/react` costs a host app's
// browser bundle (esbuild, ESM, minified; gzip level 9 and brotli quality 11), its peers external and its own
// dependencies (`@upkit/core`, zod) included, next to what a user would compare it with. Fails if upkit's bundle
// pulls in a Node built-in or a server-side package (AWS SDK, Prisma, pg, PGlite, upkit's server packages).
import { existsSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { join, relative, resolve } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { build, type Metafile, type Plugin } from 'esbuild'

const benchDir = resolve(import.meta.dirname, '..')
const repoRoot = resolve(benchDir, '..')
const reactDir = join(repoRoot, 'packages/react')

/** The peers of `@upkit/react` (package.json `peerDependencies`, plus tRPC should it ever import it): the host brings them. */
const UPKIT_PEERS = ['react', 'react-dom', '@uppy/core', '@uppy/react', '@tanstack/react-query', '@trpc/*']

/** Import paths that must never reach upkit's browser bundle. */
const FORBIDDEN_PACKAGE =
  /^(@aws-sdk\/|@smithy\/|@prisma\/|@electric-sql\/|prisma(\/|$)|pg(\/|$)|@upkit\/(server|storage|db|store-prisma|local-s3|migrate|testing)(\/|$))/
/** The same packages as they appear in resolved paths (pnpm's `.pnpm/<name>@<version>` store included). */
const FORBIDDEN_INPUT =
  /node_modules\/(\.pnpm\/)?(@aws-sdk[/+]|@smithy[/+]|@prisma[/+]|@electric-sql[/+]|prisma[/@]|pg[/@])|packages\/(server|storage|db|store-prisma|local-s3|migrate|testing)\//
const BUILTINS = new Set(builtinModules.filter((name) => !name.startsWith('_')))

function isBuiltin(path: string): boolean {
  return path.startsWith('node:') || BUILTINS.has(path) || BUILTINS.has(path.split('/')[0] ?? '')
}

/**
 * Records every import of a Node built-in or a forbidden package (with its importer) instead of stopping at the
 * first, marks it external so the build goes on, and lets the caller fail with the whole list.
 */
function guard(found: string[]): Plugin {
  return {
    name: 'upkit-browser-guard',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        const why = isBuiltin(args.path)
          ? 'Node built-in'
          : FORBIDDEN_PACKAGE.test(args.path)
            ? 'server-side package'
            : undefined
        if (!why) return undefined
        found.push(`${why} '${args.path}' imported by ${shorten(args.importer)}`)
        return { path: args.path, external: true }
      })
    },
  }
}

function shorten(path: string): string {
  const store = path.lastIndexOf('node_modules/')
  if (store >= 0)
    return path.slice(store + 'node_modules/'.length).replace(/^\.pnpm\/[^/]+\/node_modules\//, '')
  return relative(repoRoot, resolve(repoRoot, path))
}

interface Entry {
  readonly label: string
  /** What a host writes: the module's source, bundled from `resolveDir`. */
  readonly source: string
  readonly resolveDir: string
  readonly external: readonly string[]
  /** upkit's own entries: guarded against Node built-ins and server-side packages. */
  readonly upkit?: boolean
  /** Print its top inputs (upkit's full public entries). */
  readonly top?: boolean
  /** Context only (a peer the host brings anyway): no ratio. */
  readonly context?: boolean
}

interface Measured {
  readonly entry: Entry
  readonly min: number
  readonly gzip: number
  readonly brotli: number
  readonly metafile: Metafile
  readonly forbidden: readonly string[]
}

async function measure(entry: Entry): Promise<Measured> {
  const forbidden: string[] = []
  const result = await build({
    stdin: {
      contents: entry.source,
      resolveDir: entry.resolveDir,
      loader: 'ts',
      sourcefile: 'host-entry.ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    outfile: 'bundle.js',
    absWorkingDir: repoRoot,
    metafile: true,
    external: [...entry.external],
    define: { 'process.env.NODE_ENV': '"production"' },
    plugins: entry.upkit ? [guard(forbidden)] : [],
    logLevel: 'error',
  })
  const output = result.outputFiles.find((file) => file.path.endsWith('.js'))
  if (!output) throw new Error(`esbuild produced no output for ${entry.label}`)
  const code = output.contents
  for (const input of Object.keys(result.metafile.inputs))
    if (entry.upkit && FORBIDDEN_INPUT.test(input))
      forbidden.push(`server-side package in bundle: ${shorten(input)}`)
  return {
    entry,
    min: code.byteLength,
    gzip: gzipSync(code, { level: 9 }).byteLength,
    brotli: brotliCompressSync(code, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: code.byteLength,
      },
    }).byteLength,
    metafile: result.metafile,
    forbidden,
  }
}

const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? []
  return rows
    .map((row) =>
      row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))),
    )
    .map((row) => `  ${row.join(' | ')}`)
    .join('\n')
}

/** The inputs that put the most bytes into the minified output (esbuild's `bytesInOutput`). */
function topInputs(m: Measured, count: number): string {
  const output = Object.values(m.metafile.outputs)[0]
  const inputs = Object.entries(output?.inputs ?? {})
    .map(([path, { bytesInOutput }]) => ({ path: shorten(path), bytes: bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes)
  const top = inputs.slice(0, count)
  const rest = inputs.slice(count).reduce((sum, input) => sum + input.bytes, 0)
  const rows = top.map((input) => [
    input.path,
    `${input.bytes} B`,
    `${((100 * input.bytes) / m.min).toFixed(1)}%`,
  ])
  if (rest > 0)
    rows.push([
      `(${inputs.length - count} more inputs)`,
      `${rest} B`,
      `${((100 * rest) / m.min).toFixed(1)}%`,
    ])
  return table(rows)
}

const entries: Entry[] = [
  {
    label: '@upkit/react, all exports (workspace src)',
    source: "export * from '@upkit/react'",
    resolveDir: benchDir,
    external: UPKIT_PEERS,
    upkit: true,
    top: true,
  },
  {
    // The hook alone (no components): what better-upload's useUploadFiles is to its copy-in UI.
    label: '@upkit/react, { useUploads } only',
    source: "export { useUploads } from '@upkit/react'",
    resolveDir: benchDir,
    external: UPKIT_PEERS,
    upkit: true,
  },
]
/**
 * The built entry a packed `@upkit/react` resolves to, when it has been built: `publishConfig.exports['.']`, else
 * `dist/index.mjs` or `dist/index.js`.
 */
function builtReactEntry(): string | undefined {
  const manifest = JSON.parse(readFileSync(join(reactDir, 'package.json'), 'utf8')) as {
    publishConfig?: { exports?: Record<string, string | { default?: string; import?: string }> }
  }
  const published = manifest.publishConfig?.exports?.['.']
  const target = typeof published === 'string' ? published : (published?.import ?? published?.default)
  return [target, './dist/index.mjs', './dist/index.js']
    .filter((path): path is string => path !== undefined)
    .map((path) => join(reactDir, path))
    .find((path) => existsSync(path))
}
const builtEntry = builtReactEntry()
if (builtEntry)
  entries.push({
    label: `@upkit/react, all exports (${relative(repoRoot, builtEntry)})`,
    source: `export * from ${JSON.stringify(builtEntry)}`,
    resolveDir: reactDir,
    external: UPKIT_PEERS,
    upkit: true,
    top: true,
  })
entries.push(
  {
    label: '@uppy/aws-s3 (@uppy/core external)',
    source: "export { default } from '@uppy/aws-s3'\nexport * from '@uppy/aws-s3'",
    resolveDir: benchDir,
    external: ['@uppy/core'],
  },
  {
    label: '@better-upload/client (react external)',
    source: "export * from '@better-upload/client'",
    resolveDir: benchDir,
    external: ['react', 'react-dom'],
  },
  {
    label: '@uppy/core (peer, host brings it)',
    source: "export * from '@uppy/core'",
    resolveDir: benchDir,
    external: [],
    context: true,
  },
)

const started = performance.now()
const measured: Measured[] = []
for (const entry of entries) measured.push(await measure(entry))

console.log('Browser bundle size (esbuild, ESM, minified, es2022; gzip -9, brotli q11; peers external)\n')
console.log(
  table([
    ['package', 'min', 'min+gzip', 'min+brotli'],
    ...measured.map((m) => [m.entry.label, kB(m.min), kB(m.gzip), kB(m.brotli)]),
  ]),
)

const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`
const comparisons = measured.filter((m) => !m.entry.upkit && !m.entry.context)
console.log('\nRatios, upkit / comparison (below 1x: upkit is smaller):\n')
console.log(
  table([
    ['upkit entry / comparison', 'min', 'min+gzip', 'min+brotli'],
    ...measured
      .filter((m) => m.entry.upkit)
      .flatMap((u) =>
        comparisons.map((c) => [
          `${u.entry.label} / ${c.entry.label.replace(/ \(.*\)$/, '')}`,
          ratio(u.min, c.min),
          ratio(u.gzip, c.gzip),
          ratio(u.brotli, c.brotli),
        ]),
      ),
  ]),
)

for (const m of measured.filter((m) => m.entry.top)) {
  // Parsed inputs that tree shaking dropped stay in `metafile.inputs`: count only those with bytes in the output.
  const inputs = Object.entries(Object.values(m.metafile.outputs)[0]?.inputs ?? {})
    .filter(([, input]) => input.bytesInOutput > 0)
    .map(([path]) => path)
  const has = (name: string) =>
    inputs.some((input) => input.includes(`/${name}/`) || input.includes(`/${name}@`))
  console.log(
    `\nTop 10 inputs of ${m.entry.label} by minified bytes (${kB(m.min)} in all; zod ${has('zod') ? 'included' : 'tree-shaken out'}):\n`,
  )
  console.log(topInputs(m, 10))
}
console.log(`\n(${((performance.now() - started) / 1000).toFixed(1)} s)`)

const problems = measured.flatMap((m) => m.forbidden.map((problem) => `${m.entry.label}: ${problem}`))
if (problems.length > 0) {
  console.error(
    `\nFAIL: @upkit/react's browser bundle must not contain Node built-ins or server-side packages:\n${problems
      .map((problem) => `  - ${problem}`)
      .join('\n')}`,
  )
  process.exit(1)
}
console.log(
  '\nOK: no Node built-ins, AWS SDK, Prisma, pg, PGlite or upkit server packages in upkit browser bundle.',
)
