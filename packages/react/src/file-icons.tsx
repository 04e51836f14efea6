/** What kind of file a type is, for its icon. */
export type FileKind = 'image' | 'pdf' | 'video' | 'audio' | 'archive' | 'document' | 'file'

const ARCHIVES = new Set([
  'application/zip',
  'application/x-zip-compressed',
  'application/gzip',
  'application/x-gzip',
  'application/x-tar',
  'application/x-7z-compressed',
  'application/vnd.rar',
  'application/x-rar-compressed',
])

/** The icon kind of a MIME type; unknown types are a plain file. */
export function fileKind(mimeType: string): FileKind {
  const type = mimeType.split(';')[0]?.trim().toLowerCase() ?? ''
  if (type === 'application/pdf') return 'pdf'
  if (type.startsWith('image/')) return 'image'
  if (type.startsWith('video/')) return 'video'
  if (type.startsWith('audio/')) return 'audio'
  if (ARCHIVES.has(type)) return 'archive'
  if (type.startsWith('text/') || type.includes('officedocument') || type === 'application/msword')
    return 'document'
  return 'file'
}

/** What a screen reader hears for each icon: the row already says the name, the icon says the kind. */
const KIND_NAMES: Record<FileKind, string> = {
  image: 'Image',
  pdf: 'PDF',
  video: 'Video',
  audio: 'Audio',
  archive: 'Archive',
  document: 'Document',
  file: 'File',
}

/** The inner marks of each icon, drawn on the shared page outline in a 24x24 box. */
function Marks({ kind }: { kind: FileKind }) {
  switch (kind) {
    case 'pdf':
      return (
        <text
          x="12"
          y="17"
          textAnchor="middle"
          fontSize="6"
          fontWeight="700"
          fill="currentColor"
          stroke="none"
        >
          PDF
        </text>
      )
    case 'image':
      return (
        <>
          <circle cx="9.5" cy="11" r="1.5" />
          <path d="M6 18l4-4 2.5 2.5L15 14l3 4z" />
        </>
      )
    case 'video':
      return <path d="M10 11v6l5-3z" />
    case 'audio':
      return (
        <>
          <path d="M11 17.5V11l5-1.5V16" />
          <circle cx="9.5" cy="17.5" r="1.5" />
          <circle cx="14.5" cy="16" r="1.5" />
        </>
      )
    case 'archive':
      return <path d="M12 3v2m0 2v2m0 2v2m-1.5 1h3v3h-3z" />
    case 'document':
      return <path d="M8 12h8M8 15h8M8 18h5" />
    case 'file':
      return null
  }
}

/**
 * An inline SVG icon for a file's type (no icon library, no request), sized by the host's CSS
 * (`.upkit-file-icon`) and coloured with `currentColor`.
 */
export function FileTypeIcon({ mimeType }: { mimeType: string }) {
  const kind = fileKind(mimeType)
  return (
    <svg
      className={`upkit-file-icon upkit-file-icon-${kind}`}
      role="img"
      aria-label={`${KIND_NAMES[kind]} file`}
      viewBox="0 0 24 24"
      width="40"
      height="40"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.5"
      strokeLinecap="round"
      strokeLinejoin="round"
    >
      <path d="M6 2h8l5 5v14a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1V3a1 1 0 0 1 1-1z" />
      <path d="M14 2v5h5" />
      <Marks kind={kind} />
    </svg>
  )
}

/** The upload arrow of the drop zone; decorative. */
export function UploadIcon() {
  return (
    <svg
      className="upkit-upload-icon"
      aria-hidden="true"
      viewBox="0 0 24 24"
      width="32"
      height="32"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.5"
      strokeLinecap="round"
      strokeLinejoin="round"
    >
      <path d="M12 16V4m0 0L7 9m5-5l5 5" />
      <path d="M4 15v3a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-3" />
    </svg>
  )
}
