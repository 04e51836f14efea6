#!/usr/bin/env node
// The package ships TypeScript source; tsx's loader lets this bin run it without a build step.
import { tsImport } from 'tsx/esm/api'

const { main } = await tsImport('../src/cli.ts', import.meta.url)
process.exitCode = await main(process.argv.slice(2))
