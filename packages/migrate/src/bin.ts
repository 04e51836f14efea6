#!/usr/bin/env node
// The published `upkit` command (built to dist/bin.js); inside the workspace bin/ runs the source. The app's setup
// module (--source) is usually TypeScript: tsx's loader, registered for the whole process, lets Node import it.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('./cli')
process.exitCode = await main(process.argv.slice(2))
