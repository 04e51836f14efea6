import type { UpkitPaths } from '@upkit/core'

/**
 * Where the demo serves upkit's plain routes, read by the server (`createUpkit`) and by the web app (comment
 * editor, Markdown): logos keep the `/logos/` URLs the demo always had; files use upkit's default `/files/`.
 */
export const demoPaths: Partial<UpkitPaths> = { inline: '/logos/' }
