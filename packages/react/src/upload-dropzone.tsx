import { formatBytes, type RouteCall } from '@upkit/core'
import type Uppy from '@uppy/core'
import { UppyContextProvider, useDropzone, useFileInput } from '@uppy/react'
import { useEffect, useMemo, useRef, useState } from 'react'
import { type AnnouncedState, progressAnnouncements } from './announcements'
import { type Upload, type Uploads, type UseUploadsOptions, useUploads } from './use-uploads'
import { VISUALLY_HIDDEN } from './visually-hidden'

export interface UploadDropzoneProps<TCall extends RouteCall, TRoute extends TCall['route']>
  extends UseUploadsOptions<TCall, TRoute> {
  /** Text of the file input's label. Default "Attach files". */
  readonly label?: string
  /** Extra class on the outer element, for the host's styles. */
  readonly className?: string
}

const STATUS_TEXT: Record<Upload['status'], string> = {
  queued: 'Waiting',
  uploading: 'Uploading',
  retrying: 'Connection lost, retrying…',
  confirming: 'Checking the file…',
  done: 'Uploaded',
  error: 'Failed',
}

/**
 * A drop zone plus a visible, labelled file input for one bucket route; each file shows a progress bar with
 * speed and time left, Cancel while it travels, and its error when it fails, with Retry only when trying again
 * can succeed. A file the route's policy refuses (empty, too large, wrong type, too many) is never added: its
 * reason is shown as an alert. Progress is announced to screen readers in quarter steps.
 *
 * Dropping and choosing go through `@uppy/react`'s `useDropzone` and `useFileInput` on the component's own
 * Uppy instance, inside an `UppyContextProvider`.
 */
export function UploadDropzone<TCall extends RouteCall, TRoute extends TCall['route']>(
  props: UploadDropzoneProps<TCall, TRoute>,
) {
  const uploads = useUploads(props)
  return (
    // The uploader's Uppy carries upkit's own response body type; the context is typed for Uppy's default.
    <UppyContextProvider uppy={uploads.uppy as unknown as Uppy}>
      <DropzoneView uploads={uploads} label={props.label} className={props.className} />
    </UppyContextProvider>
  )
}

function DropzoneView({
  uploads,
  label,
  className,
}: {
  uploads: Uploads
  label: string | undefined
  className: string | undefined
}) {
  const [dragging, setDragging] = useState(false)
  // Memoized: `useDropzone` builds its handlers again whenever its options object changes.
  const dropOptions = useMemo(
    () => ({
      // Clicking the zone is not a second way to open the dialog: the labelled input is.
      noClick: true,
      onDragEnter: () => setDragging(true),
      onDragLeave: () => setDragging(false),
      onDrop: () => setDragging(false),
    }),
    [],
  )
  const { getRootProps } = useDropzone(dropOptions)
  const policy = uploads.policy.status === 'ready' ? uploads.policy.policy : null
  // A hint for the file dialog only: `onBeforeFileAdded` decides, with the policy's message.
  const accept = policy && !policy.types.includes('*/*') ? policy.types.join(',') : undefined
  const fileInputOptions = useMemo(() => (accept ? { multiple: true, accept } : { multiple: true }), [accept])
  const { getInputProps } = useFileInput(fileInputOptions)
  const inputProps = getInputProps()
  const announcement = useAnnouncement(uploads.files)
  const { total } = uploads

  return (
    <div className={['upkit-dropzone', className].filter(Boolean).join(' ')}>
      {/* Dropping is a shortcut; the labelled input below is the keyboard and screen reader path. */}
      <div
        {...getRootProps()}
        className={dragging ? 'upkit-dropzone-target upkit-dragging' : 'upkit-dropzone-target'}
      >
        <p>Drop files here, or</p>
        <label htmlFor={inputProps.id}>{label ?? 'Attach files'}</label>
        <input {...inputProps} />
      </div>

      {uploads.queued > 0 ? (
        <p role="status" className="loading">
          Checking {uploads.queued === 1 ? 'the file' : `${uploads.queued} files`} against the upload rules…
        </p>
      ) : null}
      {uploads.notice ? (
        <p role="alert" className="upkit-error">
          {uploads.notice}
        </p>
      ) : null}
      {uploads.files.length > 0 ? (
        <>
          <div className="upkit-total">
            <label htmlFor={`${inputProps.id}-total`}>Total</label>{' '}
            <progress id={`${inputProps.id}-total`} max={100} value={total.percent}>
              {total.percent}%
            </progress>{' '}
            <span>
              {total.percent}% of {formatBytes(total.size)}
            </span>
          </div>
          <ul className="upkit-uploads" aria-label="Uploads">
            {uploads.files.map((file) => (
              <UploadRow key={file.id} file={file} onCancel={uploads.cancel} onRetry={uploads.retry} />
            ))}
          </ul>
        </>
      ) : null}
      <p className="upkit-sr-only" style={VISUALLY_HIDDEN} aria-live="polite" aria-atomic="true">
        {announcement}
      </p>
    </div>
  )
}

function UploadRow({
  file,
  onCancel,
  onRetry,
}: {
  file: Upload
  onCancel: (id: string) => void
  onRetry: (id: string) => void
}) {
  const inFlight = file.status === 'queued' || file.status === 'uploading' || file.status === 'retrying'
  return (
    <li className={`upkit-upload upkit-${file.status}`}>
      <span className="upkit-name">{file.name}</span>{' '}
      <span className="upkit-size">{formatBytes(file.size)}</span>
      <progress max={100} value={file.percent} aria-label={`Upload of ${file.name}`}>
        {file.percent}%
      </progress>
      <span className="upkit-percent">{file.percent}%</span>{' '}
      <span className="upkit-status">{STATUS_TEXT[file.status]}</span>
      {file.progressLabel ? <span className="upkit-rate"> · {file.progressLabel}</span> : null}
      {inFlight ? (
        <button type="button" aria-label={`Cancel upload of ${file.name}`} onClick={() => onCancel(file.id)}>
          Cancel
        </button>
      ) : null}
      {file.status === 'error' ? (
        <>
          <p role="alert" className="upkit-error">
            {file.error}
          </p>
          {file.retryable ? (
            <button
              type="button"
              aria-label={`Retry upload of ${file.name}`}
              onClick={() => onRetry(file.id)}
            >
              Retry
            </button>
          ) : null}
          <button type="button" aria-label={`Remove ${file.name}`} onClick={() => onCancel(file.id)}>
            Remove
          </button>
        </>
      ) : null}
    </li>
  )
}

/** The latest announcement; files keep their announced step while they stay listed. */
function useAnnouncement(files: readonly Upload[]): string {
  const steps = useRef(new Map<string, AnnouncedState>())
  const [message, setMessage] = useState('')
  useEffect(() => {
    const { messages, next } = progressAnnouncements(steps.current, files)
    steps.current = next
    if (messages.length > 0) setMessage(messages.join(' '))
  }, [files])
  return message
}
