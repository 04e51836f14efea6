// Worker-thread entry, plain JavaScript so Node loads it without help: a worker does not get the main thread's
// tsx hooks on Node 20 (`--import tsx` is not re-run there: "Unknown file extension .ts"), so tsx loads the
// TypeScript entry and `@upkit/local-s3` (consumed from source) itself. tsImport's hooks are scoped to this
// import, so they do not stack on the hooks Node 22+ does give the worker.
import { tsImport } from 'tsx/esm/api'

await tsImport('./local-s3-worker.ts', import.meta.url)
