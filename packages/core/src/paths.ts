/**
 * Where upkit's plain HTTP routes live. Read from this one object by the server (which serves them), the Markdown
 * renderer (which accepts only these as image sources) and the comment editor (which writes them), so moving a
 * route is one option, not three edits that drift apart.
 */
export interface UpkitPaths {
  /** `GET <files><upload id>`: a member of the file's tenant is redirected to a short-lived signed GET. */
  readonly files: string
  /** `GET <inline><route>/<owner id>/<sha256>`: inline images (logos), cached forever under their hash. */
  readonly inline: string
}

/** Defaults: short, readable paths that rarely collide with an app's own pages. */
export const DEFAULT_UPKIT_PATHS: UpkitPaths = { files: '/files/', inline: '/inline/' }

/** Validates and completes paths: each starts and ends with `/`, and they differ. */
export function resolvePaths(paths: Partial<UpkitPaths> = {}): UpkitPaths {
  const resolved = { ...DEFAULT_UPKIT_PATHS, ...paths }
  for (const [name, path] of Object.entries(resolved)) {
    if (!/^\/(?:[A-Za-z0-9._-]+\/)+$/.test(path))
      throw new TypeError(
        `paths.${name} must look like '/files/' (start and end with /), got ${JSON.stringify(path)}.`,
      )
  }
  if (resolved.files === resolved.inline) throw new TypeError('paths.files and paths.inline must differ.')
  return resolved
}

/** The URL of a bucket file: `/files/<id>`. */
export function fileUrl(paths: UpkitPaths, uploadId: string): string {
  return `${paths.files}${uploadId}`
}

/** The URL of an inline image: `/inline/<route>/<owner>/<hash>`. */
export function inlineImageUrl(paths: UpkitPaths, route: string, ownerId: string, hash: string): string {
  return `${paths.inline}${route}/${ownerId}/${hash}`
}
