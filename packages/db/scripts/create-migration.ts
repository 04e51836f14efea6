// `upkit-db migration:create --schema <file|folder> --migrations <dir> <name>` (the bin runs this under tsx):
// diffs the migrations folder against the Prisma schema and writes the difference as a new migration folder.
import { parseArgs } from 'node:util'
import { createMigration } from '../src/create-migration'

const usage =
  'usage: upkit-db migration:create --schema <schema file or folder> --migrations <dir> <name>   (name: lowercase letters, digits, _)'

const { values, positionals } = parseArgs({
  options: { schema: { type: 'string' }, migrations: { type: 'string' } },
  allowPositionals: true,
})
const [name, ...extra] = positionals
if (
  values.schema === undefined ||
  values.migrations === undefined ||
  name === undefined ||
  extra.length > 0
) {
  console.error(usage)
  process.exit(2)
}
if (!/^[a-z0-9_]+$/.test(name)) {
  console.error(usage)
  process.exit(2)
}

const folder = await createMigration({ schemaPath: values.schema, migrationsDir: values.migrations, name })
if (folder === null) console.log(`no changes: ${values.migrations} already matches ${values.schema}`)
else console.log(`created ${values.migrations}/${folder}/migration.sql`)
