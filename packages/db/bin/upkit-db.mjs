#!/usr/bin/env node
// upkit-db generate --schema <file|folder> [--copy <file>]...
// upkit-db migration:create --schema <file|folder> --migrations <dir> <name>
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { generatePrismaClient } from '../scripts/generate.mjs'

const usage = `usage:
  upkit-db generate --schema <schema file or folder> [--copy <file>]...
      generates the Prisma client; each --copy file is first copied into the schema folder (overwriting)
  upkit-db migration:create --schema <schema file or folder> --migrations <dir> <name>
      writes the difference between the migrations and the schema as a new migration`

const [command, ...args] = process.argv.slice(2)
if (command === 'generate') {
  const { values } = parseArgs({
    args,
    options: { schema: { type: 'string' }, copy: { type: 'string', multiple: true } },
  })
  if (values.schema === undefined) fail()
  try {
    generatePrismaClient({ schema: values.schema, copy: values.copy ?? [] })
  } catch (error) {
    console.error(error instanceof Error ? error.message : error)
    process.exit(1)
  }
} else if (command === 'migration:create') {
  // The engine glue is TypeScript shared with createDatabase; tsx runs it without a build step.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
  const script = fileURLToPath(new URL('../scripts/create-migration.ts', import.meta.url))
  const result = spawnSync(process.execPath, ['--import', tsx, script, ...args], { stdio: 'inherit' })
  if (result.error) throw result.error
  process.exit(result.status ?? 1)
} else {
  fail()
}

function fail() {
  console.error(usage)
  process.exit(2)
}
