import { formatBytes, IMAGE_TYPES } from '@upkit/core'
import { useEffect, useRef, useState } from 'react'

/** What the list needs of each attachment (an `UploadRecord` fits). */
export interface AttachmentListItem {
  readonly id: string
  readonly fileName: string
  readonly size: number
  readonly mimeType: string
}

export interface AttachmentListProps {
  readonly attachments: readonly AttachmentListItem[]
  /** A short-lived signed URL for the file (`uploads.download`); called on click, and on render for images. */
  readonly getDownloadUrl: (id: string) => Promise<string>
  /** Deletes the attachment; the host refreshes `attachments` afterwards. Omit to hide Delete buttons. */
  readonly onDelete?: (id: string) => Promise<unknown>
  /** Shown when there are no attachments. Default "No attachments yet." */
  readonly emptyText?: string
  readonly className?: string
}

const isImage = (mimeType: string) => (IMAGE_TYPES as readonly string[]).includes(mimeType)

/**
 * Confirmed attachments with name, size, a thumbnail for images, Download and Delete. Host-agnostic: it takes
 * data and callbacks, never a tRPC client.
 */
export function AttachmentList({
  attachments,
  getDownloadUrl,
  onDelete,
  emptyText,
  className,
}: AttachmentListProps) {
  if (attachments.length === 0) return <p className="upkit-empty">{emptyText ?? 'No attachments yet.'}</p>
  return (
    <ul className={['upkit-attachments', className].filter(Boolean).join(' ')} aria-label="Attachments">
      {attachments.map((attachment) => (
        <AttachmentRow
          key={attachment.id}
          attachment={attachment}
          getDownloadUrl={getDownloadUrl}
          {...(onDelete ? { onDelete } : {})}
        />
      ))}
    </ul>
  )
}

function AttachmentRow({
  attachment,
  getDownloadUrl,
  onDelete,
}: {
  attachment: AttachmentListItem
  getDownloadUrl: (id: string) => Promise<string>
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
  const { id, fileName } = attachment
  return (
    <li className="upkit-attachment">
      {isImage(attachment.mimeType) ? (
        <Thumbnail id={id} fileName={fileName} getDownloadUrl={getDownloadUrl} />
      ) : null}
      <span className="upkit-name">{fileName}</span>{' '}
      <span className="upkit-size">{formatBytes(attachment.size)}</span>
      <button
        type="button"
        aria-label={`Download ${fileName}`}
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

function Thumbnail({
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
  return <img className="upkit-thumbnail" src={src} alt={`Preview of ${fileName}`} width={48} height={48} />
}
