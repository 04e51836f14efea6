import { isAbsolute, resolve } from 'node:path'
import { storageConfigFromEnv } from '@upkit/storage'
import { startInvoicesServer } from './app'

// `pnpm start` runs from examples/invoices; INIT_CWD is where the command was typed, so `.data/` lands there.
const cwd = process.env.INIT_CWD ?? process.cwd()
const dataDir = process.env.INVOICES_DATA_DIR || '.data/invoices'
const port = Number(process.env.PORT || 3100)
const localS3Port = Number(process.env.UPKIT_LOCAL_S3_PORT || 0)
const s3 = Object.keys(process.env).some((name) => name.startsWith('S3_'))
  ? storageConfigFromEnv(process.env)
  : undefined
if (s3 && !s3.ok) {
  console.error(`Invalid S3 configuration:\n  - ${s3.errors.join('\n  - ')}`)
  process.exit(2)
}
if (!Number.isInteger(port) || !Number.isInteger(localS3Port)) {
  console.error('PORT and UPKIT_LOCAL_S3_PORT must be port numbers.')
  process.exit(2)
}

try {
  const server = await startInvoicesServer({
    port,
    host: process.env.HOST || '127.0.0.1',
    dataDir: isAbsolute(dataDir) ? dataDir : resolve(cwd, dataDir),
    databaseUrl: process.env.DATABASE_URL || undefined,
    storage: s3?.ok ? s3.config : undefined,
    localS3Port,
  })
  console.log(`upkit invoices example ready at ${server.url} (${server.database.describe})`)
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
} catch (error) {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
}
