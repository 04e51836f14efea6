/**
 * The contract between upkit and the host app: the host authenticates however it likes and hands upkit the
 * signed-in user (or `null`). Every upkit procedure scopes its queries to `user.companyId`.
 */
export interface UpkitUser {
  readonly id: string
  readonly companyId: string
}

export interface UpkitContext {
  readonly user: UpkitUser | null
}
