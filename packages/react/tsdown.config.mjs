import { libraryConfig } from '../../tooling/tsdown-library.mjs'

export default libraryConfig({ platform: 'browser' })
