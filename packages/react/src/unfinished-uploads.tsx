import { formatBytes } from '@upkit/core'
import { useId, useState } from 'react'
import { FileTypeIcon } from './file-icons'
import type { UnfinishedUpload, UnfinishedUploads } from './use-unfinished-uploads'
import { VISUALLY_HIDDEN } from './visually-hidden'

/**
 * Uploads an earlier page load (a reload, a crash, a closed laptop) left unfinished for this route and input:
 * Resume sends only what the bucket lacks, with the file the browser kept or, when it could not keep it, the
 * file picked again (a different file is refused before a byte is sent); Discard gives the upload up.
 */
export function UnfinishedUploadsView({ uploads }: { uploads: UnfinishedUploads }) {
  const headingId = useId()
  const { unfinished } = uploads
  if (unfinished.length === 0) return null
  const resumable = unfinished.filter((upload) => upload.hasFile && !upload.elsewhere)
  return (
    <section className="upkit-unfinished" aria-labelledby={headingId}>
      <div className="upkit-totals-text">
        <h3 id={headingId} className="upkit-unfinished-heading">
          Unfinished uploads
        </h3>
        <span>
          {unfinished.length} {unfinished.length === 1 ? 'file' : 'files'} from an earlier visit
        </span>
        {resumable.length > 1 ? (
          <button
            type="button"
            className="upkit-button upkit-totals-percent"
            onClick={() => {
              for (const upload of resumable) void uploads.resumeUnfinished(upload.uploadId)
            }}
          >
            Resume all
          </button>
        ) : null}
      </div>
      <ul className="upkit-uploads" aria-labelledby={headingId}>
        {unfinished.map((upload) => (
          <UnfinishedRow key={upload.uploadId} upload={upload} uploads={uploads} />
        ))}
      </ul>
    </section>
  )
}

function UnfinishedRow({ upload, uploads }: { upload: UnfinishedUpload; uploads: UnfinishedUploads }) {
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const inputId = useId()
  const percent = upload.size > 0 ? Math.min(99, Math.floor((upload.bytesSent / upload.size) * 100)) : 0
  const resume = async (file?: File) => {
    setBusy(true)
    setError(null)
    const result = await uploads.resumeUnfinished(upload.uploadId, file)
    setBusy(false)
    if ('error' in result) setError(result.error)
  }
  const status = upload.elsewhere
    ? 'Uploading in another tab'
    : upload.hasFile
      ? 'Stopped'
      : 'Stopped: choose the file again to resume'
  return (
    <li className="upkit-upload upkit-paused" aria-label={upload.fileName}>
      <FileTypeIcon mimeType={upload.mimeType} />
      <div className="upkit-upload-main">
        <div className="upkit-upload-line">
          <span className="upkit-name" dir="auto">
            {upload.fileName}
          </span>
          <span className="upkit-size">{formatBytes(upload.size)}</span>
        </div>
        <progress
          className="upkit-progress"
          value={percent}
          max={100}
          aria-label={`${upload.fileName}: ${percent}% sent`}
        >
          {percent}%
        </progress>
        <div className="upkit-upload-line upkit-upload-meta">
          <span className="upkit-status">{status}</span>
          <span className="upkit-percent">
            {formatBytes(upload.bytesSent)} of {formatBytes(upload.size)} sent ({percent}%)
          </span>
        </div>
        {error ? (
          <p role="alert" className="upkit-error">
            {error}
          </p>
        ) : null}
      </div>
      <div className="upkit-upload-actions">
        {upload.elsewhere ? null : upload.hasFile ? (
          <button
            type="button"
            className="upkit-button"
            disabled={busy}
            onClick={() => void resume()}
            aria-label={`Resume ${upload.fileName}`}
          >
            Resume
          </button>
        ) : (
          <>
            {/* The browser did not keep the file: the person picks it again, and it is checked before sending. */}
            <input
              id={inputId}
              type="file"
              className="upkit-file-input"
              style={VISUALLY_HIDDEN}
              disabled={busy}
              onChange={(event) => {
                const file = event.currentTarget.files?.[0]
                event.currentTarget.value = ''
                if (file) void resume(file)
              }}
            />
            <label htmlFor={inputId} className="upkit-button upkit-picker">
              <span style={VISUALLY_HIDDEN}>Choose “{upload.fileName}” again to resume</span>
              <span aria-hidden="true">Choose file…</span>
            </label>
          </>
        )}
        {upload.elsewhere ? null : (
          <button
            type="button"
            className="upkit-button upkit-button-quiet"
            disabled={busy}
            onClick={() => void uploads.discardUnfinished(upload.uploadId)}
            aria-label={`Discard ${upload.fileName}`}
          >
            Discard
          </button>
        )}
      </div>
    </li>
  )
}
