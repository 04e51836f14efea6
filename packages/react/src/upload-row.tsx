import { formatBytes } from '@upkit/core'
import { memo, useEffect, useState } from 'react'
import { FileTypeIcon } from './file-icons'
import { isRasterImage } from './image-canvas'
import { ThumbnailImage } from './thumbnail-image'
import type { Upload } from './use-uploads'

/** Status words per upload phase; a phase missing here (added later) shows its own name. */
const STATUS_TEXT: Readonly<Record<string, string>> = {
  queued: 'Waiting',
  uploading: 'Uploading',
  retrying: 'Connection lost, retrying…',
  pausing: 'Pausing…',
  paused: 'Paused',
  confirming: 'Checking the file…',
  done: 'Uploaded',
  error: 'Failed',
}

interface UploadRowProps {
  readonly file: Upload
  /** The local file, for a preview while it uploads (null once it left Uppy). */
  readonly data: Blob | null
  readonly mimeType: string
  readonly onCancel: (id: string) => void
  readonly onRetry: (id: string) => void
  readonly onPause: (id: string) => void
  readonly onResume: (id: string) => void
}

/**
 * One file. Memoized on what it shows: `useUploads` describes every file anew on each progress tick, and 200 rows
 * re-rendering for one file's tick would make the list crawl.
 */
export const UploadRow = memo(function UploadRow({
  file,
  data,
  mimeType,
  onCancel,
  onRetry,
  onPause,
  onResume,
}: UploadRowProps) {
  const inFlight =
    file.status === 'queued' ||
    file.status === 'uploading' ||
    file.status === 'retrying' ||
    file.status === 'pausing' ||
    file.status === 'paused'
  const pausable = file.status === 'uploading' || file.status === 'retrying' || file.status === 'queued'
  const paused = file.status === 'pausing' || file.status === 'paused'
  return (
    <li className={`upkit-upload upkit-${file.status}`}>
      <LocalPreview data={data} mimeType={mimeType} name={file.name} />
      <div className="upkit-upload-main">
        <div className="upkit-upload-line">
          {/* dir="auto" isolates the name, so a right-to-left name cannot reorder what follows it. */}
          <span className="upkit-name" dir="auto">
            {file.name}
          </span>
          <span className="upkit-size">{formatBytes(file.size)}</span>
        </div>
        <progress
          className="upkit-progress"
          max={100}
          value={file.percent}
          aria-label={`Upload of ${file.name}`}
        >
          {file.percent}%
        </progress>
        <div className="upkit-upload-line upkit-upload-meta">
          <span className="upkit-status">{STATUS_TEXT[file.status] ?? file.status}</span>
          <span className="upkit-percent">{file.percent}%</span>
          {file.progressLabel ? <span className="upkit-rate">{file.progressLabel}</span> : null}
        </div>
        {file.status === 'error' ? (
          <p role="alert" className="upkit-error">
            {file.error}
          </p>
        ) : null}
      </div>
      <div className="upkit-upload-actions">
        {pausable ? (
          <button
            type="button"
            className="upkit-button upkit-button-quiet"
            aria-label={`Pause upload of ${file.name}`}
            onClick={() => onPause(file.id)}
          >
            Pause
          </button>
        ) : null}
        {paused ? (
          <button
            type="button"
            className="upkit-button"
            aria-label={`Resume upload of ${file.name}`}
            onClick={() => onResume(file.id)}
          >
            Resume
          </button>
        ) : null}
        {inFlight ? (
          <button
            type="button"
            className="upkit-button upkit-button-quiet"
            aria-label={`Cancel upload of ${file.name}`}
            onClick={() => onCancel(file.id)}
          >
            Cancel
          </button>
        ) : null}
        {file.status === 'error' && file.retryable ? (
          <button
            type="button"
            className="upkit-button"
            aria-label={`Retry upload of ${file.name}`}
            onClick={() => onRetry(file.id)}
          >
            Retry
          </button>
        ) : null}
        {file.status === 'error' ? (
          <button
            type="button"
            className="upkit-button upkit-button-quiet"
            aria-label={`Remove ${file.name}`}
            onClick={() => onCancel(file.id)}
          >
            Remove
          </button>
        ) : null}
      </div>
    </li>
  )
}, sameRow)

function sameRow(a: UploadRowProps, b: UploadRowProps): boolean {
  const [x, y] = [a.file, b.file]
  return (
    a.data === b.data &&
    a.mimeType === b.mimeType &&
    a.onCancel === b.onCancel &&
    a.onRetry === b.onRetry &&
    a.onPause === b.onPause &&
    a.onResume === b.onResume &&
    x.id === y.id &&
    x.name === y.name &&
    x.size === y.size &&
    x.percent === y.percent &&
    x.status === y.status &&
    x.progressLabel === y.progressLabel &&
    x.error === y.error &&
    x.retryable === y.retryable
  )
}

/** Previews are made from local files up to this size; bigger images show their type icon instead. */
const PREVIEW_MAX_BYTES = 50 * 1024 * 1024

/**
 * The local image itself as a preview (an object URL, revoked when the row goes or the file changes), or a type
 * icon. Fixed 40x40 so rows never jump when images load; lazy, so 200 pasted photos decode only as they scroll
 * into view.
 */
function LocalPreview({ data, mimeType, name }: { data: Blob | null; mimeType: string; name: string }) {
  const previewable = data !== null && isRasterImage(mimeType) && data.size <= PREVIEW_MAX_BYTES
  const url = useObjectUrl(previewable ? data : null)
  const [broken, setBroken] = useState(false)
  if (!url || broken) return <FileTypeIcon mimeType={mimeType} />
  return <ThumbnailImage src={url} fileName={name} onError={() => setBroken(true)} />
}

function useObjectUrl(blob: Blob | null): string | null {
  const [url, setUrl] = useState<string | null>(null)
  useEffect(() => {
    if (!blob) return
    const created = URL.createObjectURL(blob)
    setUrl(created)
    return () => {
      URL.revokeObjectURL(created)
      setUrl(null)
    }
  }, [blob])
  return url
}
