#!/usr/bin/env node
// The package ships TypeScript source, and the app's setup module (--source) is usually TypeScript too: tsx's
// loader, registered for the whole process, lets this bin run both without a build step.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src/cli.ts')
process.exitCode = await main(process.argv.slice(2))
