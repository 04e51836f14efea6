#!/usr/bin/env node
// The published `upkit-local-s3` command (built to dist/bin.js); inside the workspace bin/ runs the source.
import { main } from './cli'

await main()
