import {
  cleanFileName,
  DEFAULT_UPKIT_PATHS,
  fileUrl,
  formatBytes,
  IMAGE_TYPES,
  type UpkitPaths,
} from '@upkit/core'
import { memo, useCallback, useEffect, useRef, useState } from 'react'
import { FileTypeIcon } from './file-icons'
import { ThumbnailImage } from './thumbnail-image'

/** What the list needs of each file (an `UploadRecord` fits). */
export interface UploadListItem {
  readonly id: string
  readonly fileName: string
  readonly size: number
  readonly mimeType: string
  /**
   * The server's small preview (`UploadRecord.thumbnailUrl`), shown instead of the file: `null` shows the type
   * icon. Left out (data from before thumbnails), an image is previewed from the file itself.
   */
  readonly thumbnailUrl?: string | null
  /** Who uploaded it (`UploadRecord.uploadedBy`), passed to `uploaderName`. */
  readonly uploadedBy?: string | null
  /** When the server confirmed it (ISO 8601); shown as "3 minutes ago", the exact time on hover. */
  readonly confirmedAt?: string | null
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
  /**
   * The name to show for an uploader id (`uploadedBy` is what the route's `authorize` returned, usually a user
   * id), e.g. `(id) => members.get(id)?.name`. Default: no name is shown, since an id means nothing to people and
   * upkit knows no users; the date still is. Answer `undefined` to hide a name.
   */
  readonly uploaderName?: (uploadedBy: string) => string | undefined
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
  uploaderName,
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
  // Stable across renders (the rows are memoized): the current list is read through a ref.
  const current = useRef(attachments)
  current.current = attachments
  const onDeleteRef = useRef(onDelete)
  onDeleteRef.current = onDelete
  const deleteAny = useCallback(async (id: string) => {
    deleting.current = { id, index: current.current.findIndex((attachment) => attachment.id === id) }
    try {
      await onDeleteRef.current?.(id)
    } catch (error) {
      deleting.current = null
      throw error
    }
  }, [])
  const deleteRow = onDelete ? deleteAny : undefined
  // Relative dates are as of the list's first render: a ticking clock would re-render every row.
  const [now] = useState(() => Date.now())

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
          uploader={attachment.uploadedBy && uploaderName ? uploaderName(attachment.uploadedBy) : undefined}
          now={now}
        />
      ))}
    </ul>
  )
}

/** One file; memoized, so adding or removing one of 200 files does not re-render the other rows. */
const UploadRow = memo(function UploadRow({
  attachment,
  href,
  getDownloadUrl,
  onDelete,
  uploader,
  now,
}: {
  attachment: UploadListItem
  /** The app's URL of the file (`/files/<id>`). */
  href: string
  getDownloadUrl?: (id: string) => Promise<string>
  onDelete?: (id: string) => Promise<unknown>
  /** The uploader's name, or undefined to show none. */
  uploader: string | undefined
  /** When the list first rendered: relative dates are as of then (rows do not tick). */
  now: number
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
      <Preview attachment={attachment} href={href} fileName={fileName} getDownloadUrl={getDownloadUrl} />
      <div className="upkit-attachment-main">
        {/* dir="auto" isolates the name, so a right-to-left name cannot reorder the size and buttons after it. */}
        <span className="upkit-name" dir="auto">
          {fileName}
        </span>
        <span className="upkit-attachment-meta">
          <span className="upkit-size">{formatBytes(attachment.size)}</span>
          {uploader ? (
            <span className="upkit-uploader" dir="auto">
              {uploader}
            </span>
          ) : null}
          {attachment.confirmedAt ? <When iso={attachment.confirmedAt} now={now} /> : null}
        </span>
      </div>
      <div className="upkit-attachment-actions">
        {getDownloadUrl ? (
          <button
            type="button"
            aria-label={`Download ${fileName}`}
            data-upkit-download=""
            className="upkit-button"
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
          // A real link: open in a new tab, copy and middle-click work. `?download` has the server redirect to a
          // signed GET with Content-Disposition: attachment under the file's name, images included (the plain URL
          // shows a verified image inline, and Chromium follows a cross-origin redirect of `<a download>` as a
          // navigation, so without it an image would open in the tab instead of saving).
          <a
            className="upkit-button upkit-download"
            href={`${href}?download`}
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
            className="upkit-button upkit-button-quiet"
            aria-label={`Delete ${fileName}`}
            aria-disabled={busy !== null}
            onClick={() => run('delete', () => onDelete(id))}
          >
            {busy === 'delete' ? 'Deleting…' : 'Delete'}
          </button>
        ) : null}
      </div>
      {error ? (
        <p role="alert" className="upkit-error">
          {error}
        </p>
      ) : null}
    </li>
  )
})

/**
 * The server's thumbnail when there is one; for data without the field (older servers), an image previewed from
 * the file itself; else the type icon (PDF, video, archive…).
 */
function Preview({
  attachment,
  href,
  fileName,
  getDownloadUrl,
}: {
  attachment: UploadListItem
  href: string
  fileName: string
  getDownloadUrl: ((id: string) => Promise<string>) | undefined
}) {
  const [broken, setBroken] = useState(false)
  const icon = <FileTypeIcon mimeType={attachment.mimeType} />
  if (broken) return icon
  // Apps whose auth does not travel with a plain URL cannot load `thumbnailUrl` in an <img> either.
  if (getDownloadUrl) {
    return isImage(attachment.mimeType) ? (
      <SignedThumbnail id={attachment.id} fileName={fileName} getDownloadUrl={getDownloadUrl} />
    ) : (
      icon
    )
  }
  if (typeof attachment.thumbnailUrl === 'string')
    return (
      <ThumbnailImage src={attachment.thumbnailUrl} fileName={fileName} onError={() => setBroken(true)} />
    )
  // The same URL as the link: the server shows a verified image inline after the route's authorize.
  if (attachment.thumbnailUrl === undefined && isImage(attachment.mimeType))
    return <ThumbnailImage src={href} fileName={fileName} onError={() => setBroken(true)} />
  return icon
}

/** Built once per locale: Intl formatters are slow enough to construct that 200 rows would notice. */
const formatters = new Map<string, { date: Intl.DateTimeFormat; relative: Intl.RelativeTimeFormat }>()
function formattersFor(locale: string | undefined) {
  const key = locale ?? ''
  let found = formatters.get(key)
  if (!found) {
    found = {
      date: new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }),
      relative: new Intl.RelativeTimeFormat(locale, { numeric: 'auto' }),
    }
    formatters.set(key, found)
  }
  return found
}

/** "3 minutes ago" (the exact date and time in the tooltip and `dateTime`); older than a week, the date. */
export function relativeDate(iso: string, now: number, locale?: string): string {
  const then = Date.parse(iso)
  if (Number.isNaN(then)) return ''
  const seconds = Math.round((then - now) / 1000)
  const abs = Math.abs(seconds)
  const { date, relative: format } = formattersFor(locale)
  if (abs >= 7 * 86_400) return date.format(then)
  if (abs < 45) return format.format(0, 'second')
  if (abs < 45 * 60) return format.format(Math.round(seconds / 60), 'minute')
  if (abs < 22 * 3600) return format.format(Math.round(seconds / 3600), 'hour')
  return format.format(Math.round(seconds / 86_400), 'day')
}

function When({ iso, now }: { iso: string; now: number }) {
  const text = relativeDate(iso, now)
  if (!text) return null
  const exact = new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
  return (
    <time className="upkit-date" dateTime={iso} title={exact}>
      {text}
    </time>
  )
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
  if (!src) return <span className="upkit-thumbnail" aria-hidden="true" style={{ width: 40, height: 40 }} />
  return <ThumbnailImage src={src} fileName={fileName} />
}
