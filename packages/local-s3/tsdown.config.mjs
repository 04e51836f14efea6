import { libraryConfig } from '../../tooling/tsdown-library.mjs'

export default libraryConfig({ entry: { index: 'src/index.ts', bin: 'src/bin.ts' } })
