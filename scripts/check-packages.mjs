#!/usr/bin/env node
// `pnpm check:packages` (a step of `pnpm test`): builds every published package, packs it as npm would receive it
// (`pnpm pack` applies `publishConfig`), and checks each tarball: publint (strict), Are The Types Wrong (ESM-only
// profile: upkit ships ESM only, for Node 22+ and bundlers), and upkit's own rules: exports and bins reach only
// built JavaScript, nothing `workspace:` is left, tests are not shipped. Tarballs stay in .tmp/packs for the
// outside-app test.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'
import { buildPackages, publishedPackages } from './build.mjs'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const packsDir = join(root, '.tmp', 'packs')

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options })
  if (result.error) throw result.error
  return result
}

/** Every file path in a tarball (`package/...`). */
function tarballFiles(tarball) {
  const listed = run('tar', ['-tzf', tarball])
  if (listed.status !== 0) throw new Error(`cannot list ${tarball}: ${listed.stderr}`)
  return listed.stdout.split('\n').filter(Boolean)
}

function tarballManifest(tarball) {
  const shown = run('tar', ['-xzOf', tarball, 'package/package.json'])
  return JSON.parse(shown.stdout)
}

/** Targets of `exports` and `bin`, flattened. */
function targets(value) {
  if (typeof value === 'string') return [value]
  if (value === null || typeof value !== 'object') return []
  return Object.values(value).flatMap(targets)
}

export async function packAndCheck() {
  buildPackages()
  rmSync(packsDir, { recursive: true, force: true })
  mkdirSync(packsDir, { recursive: true })
  const problems = []
  const packed = []
  for (const { dir, manifest } of publishedPackages()) {
    const name = manifest.name
    const pack = run('pnpm', ['pack', '--pack-destination', packsDir], { cwd: dir })
    if (pack.status !== 0) throw new Error(`pnpm pack ${name} failed: ${pack.stderr}`)
    const tarball = pack.stdout.trim().split('\n').at(-1)
    packed.push({ name, tarball })

    const files = tarballFiles(tarball)
    const shipped = tarballManifest(tarball)
    for (const target of [...targets(shipped.exports), ...targets(shipped.bin)]) {
      if (/\.(ts|tsx|mts|cts)$/.test(target) && !/\.d\.(ts|mts|cts)$/.test(target)) {
        problems.push(`${name}: exports/bin reach TypeScript source (${target})`)
      }
      if (!files.includes(`package/${target.replace(/^\.\//, '')}`) && !target.endsWith('package.json')) {
        problems.push(`${name}: ${target} is in exports/bin but not in the tarball`)
      }
    }
    const text = JSON.stringify(shipped)
    if (text.includes('workspace:')) problems.push(`${name}: a workspace: range survived packing`)
    const tests = files.filter((file) => /\.test\.tsx?$|test-support|test-fixtures/.test(file))
    if (tests.length > 0) problems.push(`${name}: ships tests (${tests.slice(0, 3).join(', ')})`)

    const bytes = readFileSync(tarball)
    const lint = await publint({
      pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) },
      strict: true,
    })
    for (const message of lint.messages) {
      problems.push(`${name}: publint ${message.type}: ${formatMessage(message, lint.pkg) ?? message.code}`)
    }
    // Exports that are data, not modules (store-prisma's `./upkit.prisma`), have no types to check.
    const dataEntries = Object.entries(shipped.exports ?? {})
      .filter(([, target]) => typeof target === 'string' && !/\.(m?js|json)$/.test(target))
      .map(([entry]) => entry)
    const attwArgs = [tarball, '--profile', 'esm-only', '--format', 'ascii']
    if (dataEntries.length > 0) attwArgs.push('--exclude-entrypoints', ...dataEntries)
    const attw = run(join(root, 'node_modules', '.bin', 'attw'), attwArgs)
    if (attw.status !== 0) problems.push(`${name}: Are The Types Wrong:\n${attw.stdout}${attw.stderr}`)
    console.log(
      `${problems.length === 0 ? 'ok  ' : '    '} ${name}: ${files.length} files, ${(bytes.length / 1024).toFixed(1)} KiB packed`,
    )
  }
  if (problems.length > 0) {
    throw new Error(`packed packages have problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
  }
  return packed
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  packAndCheck().then(
    () => console.log('every published package packs clean (publint strict, attw esm-only)'),
    (error) => {
      console.error(error instanceof Error ? error.message : error)
      process.exit(1)
    },
  )
}
