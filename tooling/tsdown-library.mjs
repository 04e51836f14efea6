// @ts-check
import { defineConfig } from 'tsdown'

/**
 * How every published upkit package builds: ESM with `.d.mts` bundled from the sources' declarations (with
 * declaration maps, so "go to definition" lands in the shipped `src/`), dependencies and peers left external.
 * Inside the workspace packages resolve to `src/index.ts` (source-first: no build in the dev loop); packing swaps
 * `exports` to `dist/` through `publishConfig`. Plain JavaScript so no TypeScript loader is needed to read it.
 *
 * @param {{ entry?: Record<string, string>, platform?: 'node' | 'browser' | 'neutral' }} [options]
 */
export function libraryConfig(options = {}) {
  return defineConfig({
    entry: options.entry ?? { index: 'src/index.ts' },
    format: 'esm',
    platform: options.platform ?? 'node',
    // The oldest Node the packages support (`engines`); browsers get what Vite or the host's bundler targets.
    target: options.platform === 'browser' ? 'es2022' : 'node22',
    dts: { sourcemap: true },
    sourcemap: true,
    clean: true,
    // .mjs and .d.mts whatever the platform: one naming for exports, bins and the checks.
    fixedExtension: true,
    // The package's own settings (React's JSX and DOM types where they apply) without its tests.
    tsconfig: 'tsconfig.build.json',
  })
}
