import type { BucketStorage } from '@upkit/storage'
import type { LegacySource } from './legacy-source'
import type { MigrationStore } from './migration-store'
import type { MigrationRoutes } from './plan'

/** What `upkit migrate` hands the app's setup factory. */
export interface MigrationEnvironment {
  /** The process environment: the app reads its own configuration (DATABASE_URL, S3_*) from it. */
  readonly env: NodeJS.ProcessEnv
  /** Where the operator ran the command; relative paths in the environment are relative to it. */
  readonly cwd: string
}

/** Everything a migration needs from the app, opened by its factory and closed by `close` when the run ends. */
export interface MigrationSetup<TTx> {
  readonly source: LegacySource<TTx>
  readonly store: MigrationStore<TTx>
  readonly storage: BucketStorage
  /** The app's upload routes, as given to `createUpkit`. */
  readonly routes: MigrationRoutes
  /** The app's `createUpkit` key prefix. Default `'uploads/'`, upkit's default. */
  readonly keyPrefix?: string
  /** What inline routes' `onStored` get as `ctx`. Default `null`. */
  readonly hookContext?: unknown
  /** Printed before the run: where the database and the bucket are, without secrets. Default none. */
  readonly describe?: { readonly database?: string; readonly bucket?: string }
  /** Closes what the factory opened (database, embedded servers). */
  close(): Promise<void>
}

export type MigrationSetupFactory<TTx = unknown> = (
  environment: MigrationEnvironment,
) => Promise<MigrationSetup<TTx>>

/**
 * Types the default export of the module `upkit migrate --source <module>` loads, keeping the source's and the
 * store's transaction types the same: `export default defineMigrationSetup(async ({ env, cwd }) => ({ ... }))`.
 */
export function defineMigrationSetup<TTx>(factory: MigrationSetupFactory<TTx>): MigrationSetupFactory<TTx> {
  return factory
}
