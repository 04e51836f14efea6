#!/usr/bin/env node
// `pnpm build`: every published package (those with `publishConfig`) to dist/ with tsdown. Inside the workspace
// nothing needs this (packages resolve to src/); packing and the tests of packed packages do. tsdown needs Node 22+,
// so on an older Node the build runs on the pinned Node 24 of scripts/node-binary.mjs.
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { nodeBinary } from './node-binary.mjs'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** The published packages, by folder, in the order a reader expects (core first). */
export function publishedPackages() {
  const dirs = readdirSync(join(root, 'packages')).map((name) => join(root, 'packages', name))
  return dirs
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => manifest.publishConfig !== undefined && manifest.private !== true)
}

export function buildPackages() {
  const major = Number(process.versions.node.split('.')[0])
  const node = major >= 22 ? process.execPath : nodeBinary(24)
  const tsdown = join(
    dirname(createRequire(import.meta.url).resolve('tsdown/package.json')),
    'dist',
    'run.mjs',
  )
  for (const { dir, manifest } of publishedPackages()) {
    const started = Date.now()
    const result = spawnSync(node, [tsdown, '--config-loader', 'native', '--log-level', 'warn'], {
      cwd: dir,
      stdio: 'inherit',
    })
    if (result.status !== 0) throw new Error(`building ${manifest.name} failed (exit ${result.status})`)
    console.log(`built ${manifest.name} in ${Date.now() - started} ms`)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    buildPackages()
  } catch (error) {
    console.error(error instanceof Error ? error.message : error)
    process.exit(1)
  }
}
