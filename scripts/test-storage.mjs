#!/usr/bin/env node
// `pnpm test:storage`: the storage conformance suite (packages/storage/src/conformance) against the bucket named by
// S3_* (as the app reads them), or against throwaway local S3 servers in default and strict modes when none is set.
// The suite is TypeScript source; tsx (a dependency of @upkit/local-s3, not of the root) runs it without a build.
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

// require.resolve would pick tsx's CommonJS build (which then fails to load its ESM half); the `import` entry of
// its exports map is the one to load.
const fromLocalS3 = createRequire(new URL('../packages/local-s3/package.json', import.meta.url))
const tsxManifest = fromLocalS3.resolve('tsx/package.json')
const tsxApi = fromLocalS3(tsxManifest).exports['./esm/api'].import.default
const { tsImport } = await import(new URL(tsxApi, pathToFileURL(tsxManifest)).href)
const { main } = await tsImport('../packages/storage/src/conformance/cli.ts', import.meta.url)
process.exitCode = await main()
