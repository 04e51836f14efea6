// Child process for the lock tests: opens the PGlite folder given as argv[2], says "ready", and keeps it open
// until its stdin closes (or it is killed, which leaves a stale lock behind on purpose).
import { openFixtureDatabase } from './fixture-database'

const dataDir = process.argv[2]
if (dataDir === undefined) throw new Error('usage: hold-data-dir.ts <dataDir>')
const db = await openFixtureDatabase({ dataDir })
process.stdout.write('ready\n')
process.stdin.resume()
process.stdin.on('end', () => {
  void db.close().then(() => process.exit(0))
})
