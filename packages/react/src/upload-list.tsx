import {
  cleanFileName,
  DEFAULT_UPKIT_PATHS,
  fileUrl,
  formatBytes,
  IMAGE_TYPES,
  type UpkitPaths,
} from '@upkit/core'
import { useEffect, useRef, useState } from 'react'

/** What the list needs of each file (an `UploadRecord` fits). */
export interface UploadListItem {
  readonly id: string
  readonly fileName: string
  readonly size: number
  readonly mimeType: string
}

export interface UploadListProps {
  /** The confirmed files, e.g. from `api.list({ route, input })`. */
  readonly uploads: readonly UploadListItem[]
  /**
   * Where the server serves files: each Download is a link to `<files><id>` (`/files/<id>` by default), which
   * runs the route's `authorize` and redirects to a short-lived signed GET, so open-in-new-tab, copy link and
   * middle-click work and the link can be shared with anyone the route admits. Default `DEFAULT_UPKIT_PATHS`;
   * give the same paths as the server's `paths` option.
   */
  readonly paths?: Partial<UpkitPaths>
  /**
   * Opt-out of links, for apps whose auth does not travel with a plain link (a bearer token rather than a
   * cookie): given, Download is a button that asks for a short-lived signed URL (`api.download`) on click and
   * follows it, and image thumbnails use it too. Omitted (the default), Download is a link to `<files><id>` and
   * thumbnails load from the same URL.
   */
  readonly getDownloadUrl?: (id: string) => Promise<string>
  /** Deletes the file; the host refreshes `uploads` afterwards. Omit to hide Delete buttons. */
  readonly onDelete?: (id: string) => Promise<unknown>
  /** Accessible name of the list. Default "Files": the host names what they are ("Attachments"). */
  readonly label?: string
  /** Shown when there are no files. Default "No files yet." */
  readonly emptyText?: string
  readonly className?: string
}

const isImage = (mimeType: string) => (IMAGE_TYPES as readonly string[]).includes(mimeType)

/**
 * Confirmed files with name, size, a thumbnail for images, Download and Delete. Presentational: it takes data
 * and callbacks, never a client.
 */
export function UploadList({
  uploads: attachments,
  paths,
  getDownloadUrl,
  onDelete,
  label,
  emptyText,
  className,
}: UploadListProps) {
  const listRef = useRef<HTMLUListElement>(null)
  const emptyRef = useRef<HTMLParagraphElement>(null)
  const filesPath = paths?.files ?? DEFAULT_UPKIT_PATHS.files
  // The row being deleted holds the focus (its Delete button); when it leaves the list the browser would drop
  // focus to the page, so it moves to the next row's Download (link or button, the next row's, or the previous
  // one for the last row), or to the empty-list text.
  const deleting = useRef<{ id: string; index: number } | null>(null)
  useEffect(() => {
    const pending = deleting.current
    if (!pending || attachments.some((attachment) => attachment.id === pending.id)) return
    deleting.current = null
    // Only focus that was lost: a person who moved on meanwhile keeps their place.
    if (document.activeElement !== null && document.activeElement !== document.body) return
    if (attachments.length === 0) emptyRef.current?.focus()
    else {
      const downloads = listRef.current?.querySelectorAll<HTMLElement>('[data-upkit-download]')
      downloads?.[Math.min(pending.index, attachments.length - 1)]?.focus()
    }
  }, [attachments])
  const deleteRow = onDelete
    ? async (id: string) => {
        deleting.current = { id, index: attachments.findIndex((attachment) => attachment.id === id) }
        try {
          await onDelete(id)
        } catch (error) {
          deleting.current = null
          throw error
        }
      }
    : undefined

  if (attachments.length === 0) {
    return (
      <p className="upkit-empty" ref={emptyRef} tabIndex={-1}>
        {emptyText ?? 'No files yet.'}
      </p>
    )
  }
  return (
    <ul
      ref={listRef}
      className={['upkit-attachments', className].filter(Boolean).join(' ')}
      aria-label={label ?? 'Files'}
    >
      {attachments.map((attachment) => (
        <UploadRow
          key={attachment.id}
          attachment={attachment}
          href={fileUrl({ ...DEFAULT_UPKIT_PATHS, files: filesPath }, attachment.id)}
          {...(getDownloadUrl ? { getDownloadUrl } : {})}
          {...(deleteRow ? { onDelete: deleteRow } : {})}
        />
      ))}
    </ul>
  )
}

function UploadRow({
  attachment,
  href,
  getDownloadUrl,
  onDelete,
}: {
  attachment: UploadListItem
  /** The app's URL of the file (`/files/<id>`). */
  href: string
  getDownloadUrl?: (id: string) => Promise<string>
  onDelete?: (id: string) => Promise<unknown>
}) {
  const [busy, setBusy] = useState<'download' | 'delete' | null>(null)
  const [error, setError] = useState<string | null>(null)
  const run = async (what: 'download' | 'delete', action: () => Promise<unknown>) => {
    if (busy !== null) return
    setBusy(what)
    setError(null)
    try {
      await action()
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught))
    } finally {
      setBusy(null)
    }
  }
  const { id } = attachment
  // Rows stored before the server cleaned names, or by another writer, can still carry a bidi override.
  const fileName = cleanFileName(attachment.fileName)
  return (
    <li className="upkit-attachment">
      {isImage(attachment.mimeType) ? (
        getDownloadUrl ? (
          <SignedThumbnail id={id} fileName={fileName} getDownloadUrl={getDownloadUrl} />
        ) : (
          // The same URL as the link: the server shows a verified image inline after the route's authorize.
          <Thumbnail src={href} fileName={fileName} />
        )
      ) : null}
      {/* dir="auto" isolates the name, so a right-to-left name cannot reorder the size and buttons after it. */}
      <span className="upkit-name" dir="auto">
        {fileName}
      </span>{' '}
      <span className="upkit-size">{formatBytes(attachment.size)}</span>
      {getDownloadUrl ? (
        <button
          type="button"
          aria-label={`Download ${fileName}`}
          data-upkit-download=""
          // aria-disabled, not disabled: disabling the focused button would drop keyboard focus to the page.
          aria-disabled={busy !== null}
          onClick={() =>
            run('download', async () => {
              // The URL says Content-Disposition: attachment, so following it downloads without leaving the page.
              window.location.assign(await getDownloadUrl(id))
            })
          }
        >
          Download
        </button>
      ) : (
        // A real link: open in a new tab, copy and middle-click work. The server redirects it to a signed GET that
        // downloads (Content-Disposition: attachment), except verified images, which it shows inline: Chromium
        // follows a cross-origin redirect of an `<a download>` as a navigation, so such an image opens in the tab.
        <a
          className="upkit-download"
          href={href}
          download=""
          aria-label={`Download ${fileName}`}
          data-upkit-download=""
        >
          Download
        </a>
      )}
      {onDelete ? (
        <button
          type="button"
          aria-label={`Delete ${fileName}`}
          aria-disabled={busy !== null}
          onClick={() => run('delete', () => onDelete(id))}
        >
          {busy === 'delete' ? 'Deleting…' : 'Delete'}
        </button>
      ) : null}
      {error ? <p role="alert">{error}</p> : null}
    </li>
  )
}

function Thumbnail({ src, fileName }: { src: string; fileName: string }) {
  return <img className="upkit-thumbnail" src={src} alt={`Preview of ${fileName}`} width={48} height={48} />
}

/** A thumbnail from a signed URL asked for on mount (apps whose auth does not travel with a plain URL). */
function SignedThumbnail({
  id,
  fileName,
  getDownloadUrl,
}: {
  id: string
  fileName: string
  getDownloadUrl: (id: string) => Promise<string>
}) {
  const [src, setSrc] = useState<string | null>(null)
  // Through a ref: a host passing a new function each render must not refetch the URL each render.
  const getUrl = useRef(getDownloadUrl)
  getUrl.current = getDownloadUrl
  useEffect(() => {
    let current = true
    getUrl.current(id).then(
      (url) => current && setSrc(url),
      () => {},
    )
    return () => {
      current = false
    }
  }, [id])
  if (!src) return <span className="upkit-thumbnail" aria-hidden="true" />
  return <Thumbnail src={src} fileName={fileName} />
}
