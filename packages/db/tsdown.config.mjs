import { libraryConfig } from '../../tooling/tsdown-library.mjs'

// The PGlite thread's entry is built beside index.mjs: `startPgliteThread` loads it relative to its own module.
export default libraryConfig({ entry: { index: 'src/index.ts', 'pglite-worker': 'src/pglite-worker.mjs' } })
