import { startDemoServer } from './app'
import { ConfigError, loadConfig } from './config'

// `pnpm start` runs this from apps/demo; INIT_CWD is where the user typed the command, so `.data/` lands there.
const config = (() => {
  try {
    return loadConfig(process.env, process.env.INIT_CWD ?? process.cwd())
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message)
      process.exit(2)
    }
    throw error
  }
})()

try {
  const server = await startDemoServer(config)
  const where = config.databaseUrl ? 'PostgreSQL' : `PGlite + local S3 in ${config.dataDir}`
  console.log(`upkit demo ready at ${server.url} (${where})`)
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    console.log(`${signal}: shutting down`)
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
} catch (error) {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
}
