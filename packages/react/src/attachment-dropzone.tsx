import type { FileKind, UploadApi, UploadRecord } from '@upkit/core'
import { formatBytes } from '@upkit/core'
import { useEffect, useId, useRef, useState } from 'react'
import { type AnnouncedState, progressAnnouncements } from './announcements'
import { type AttachmentUpload, useAttachmentUploads } from './use-attachment-uploads'
import { useFileDrop } from './use-file-drop'
import { VISUALLY_HIDDEN } from './visually-hidden'

export interface AttachmentDropzoneProps {
  readonly api: UploadApi
  readonly taskId: string
  /** Called after each file is confirmed by the server (refresh the attachment list here). */
  readonly onUploaded?: (upload: UploadRecord) => void
  /** Default `'attachment'`. */
  readonly kind?: FileKind
  /** Default 6; see `UpkitUploaderOptions.partConcurrency`. */
  readonly partConcurrency?: number
  /** Extra class on the outer element, for the host's styles. */
  readonly className?: string
}

const STATUS_TEXT: Record<AttachmentUpload['status'], string> = {
  queued: 'Waiting',
  uploading: 'Uploading',
  retrying: 'Connection lost, retrying…',
  confirming: 'Checking the file…',
  done: 'Uploaded',
  error: 'Failed',
}

/**
 * A drop zone plus a visible "Attach files" input; each file shows a progress bar with speed and time left,
 * Cancel while it travels, and its error with Retry when it fails. Progress is announced to screen readers in
 * quarter steps.
 */
export function AttachmentDropzone({
  api,
  taskId,
  onUploaded,
  kind,
  partConcurrency,
  className,
}: AttachmentDropzoneProps) {
  const uploads = useAttachmentUploads({
    api,
    taskId,
    ...(onUploaded ? { onUploaded } : {}),
    ...(kind ? { kind } : {}),
    ...(partConcurrency ? { partConcurrency } : {}),
  })
  const inputId = useId()
  const dropTarget = useFileDrop(uploads.addFiles)
  const announcement = useAnnouncement(uploads.files)

  return (
    <div className={['upkit-dropzone', className].filter(Boolean).join(' ')}>
      {/* Dropping is a shortcut; the labelled input below is the keyboard and screen reader path. */}
      <div {...dropTarget}>
        <p>Drop files here, or</p>
        <label htmlFor={inputId}>Attach files</label>
        <input
          id={inputId}
          type="file"
          multiple
          onChange={(event) => {
            uploads.addFiles(event.currentTarget.files ?? [])
            // Cleared so choosing the same file again (after a failure) fires change again.
            event.currentTarget.value = ''
          }}
        />
      </div>

      {uploads.notice ? (
        <p role="alert" className="upkit-error">
          {uploads.notice}
        </p>
      ) : null}
      {uploads.files.length > 0 ? (
        <>
          <div className="upkit-total">
            <label htmlFor={`${inputId}-total`}>Total</label>{' '}
            <progress id={`${inputId}-total`} max={100} value={uploads.total.percent}>
              {uploads.total.percent}%
            </progress>{' '}
            <span>
              {uploads.total.percent}% of {formatBytes(uploads.total.size)}
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
  file: AttachmentUpload
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
          <button type="button" aria-label={`Retry upload of ${file.name}`} onClick={() => onRetry(file.id)}>
            Retry
          </button>
          <button type="button" aria-label={`Remove ${file.name}`} onClick={() => onCancel(file.id)}>
            Remove
          </button>
        </>
      ) : null}
    </li>
  )
}

/** The latest announcement; files keep their announced step while they stay listed. */
function useAnnouncement(files: readonly AttachmentUpload[]): string {
  const steps = useRef(new Map<string, AnnouncedState>())
  const [message, setMessage] = useState('')
  useEffect(() => {
    const { messages, next } = progressAnnouncements(steps.current, files)
    steps.current = next
    if (messages.length > 0) setMessage(messages.join(' '))
  }, [files])
  return message
}
