import { formatBytes } from '@upkit/core'
import { useId, useState } from 'react'
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
      <div className="upkit-unfinished-header">
        <h3 id={headingId}>Unfinished uploads</h3>
        {resumable.length > 1 ? (
          <button
            type="button"
            onClick={() => {
              for (const upload of resumable) void uploads.resumeUnfinished(upload.uploadId)
            }}
          >
            Resume all
          </button>
        ) : null}
      </div>
      <ul aria-labelledby={headingId}>
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
  return (
    <li className="upkit-unfinished-row" aria-label={upload.fileName}>
      <span className="upkit-unfinished-name">{upload.fileName}</span>
      <span className="upkit-unfinished-detail">
        {formatBytes(upload.bytesSent)} of {formatBytes(upload.size)} sent ({percent}%)
      </span>
      <progress value={percent} max={100} aria-label={`${upload.fileName}: ${percent}% sent`} />
      {upload.elsewhere ? (
        <span className="upkit-unfinished-detail">Uploading in another tab</span>
      ) : upload.hasFile ? (
        <button
          type="button"
          disabled={busy}
          onClick={() => void resume()}
          aria-label={`Resume ${upload.fileName}`}
        >
          Resume
        </button>
      ) : (
        <>
          {/* The browser did not keep the file: the person picks it again, and it is checked before sending. */}
          <label htmlFor={inputId} className="upkit-button">
            Choose “{upload.fileName}” again to resume
          </label>
          <input
            id={inputId}
            type="file"
            style={VISUALLY_HIDDEN}
            disabled={busy}
            onChange={(event) => {
              const file = event.currentTarget.files?.[0]
              event.currentTarget.value = ''
              if (file) void resume(file)
            }}
          />
        </>
      )}
      {upload.elsewhere ? null : (
        <button
          type="button"
          disabled={busy}
          onClick={() => void uploads.discardUnfinished(upload.uploadId)}
          aria-label={`Discard ${upload.fileName}`}
        >
          Discard
        </button>
      )}
      {error ? (
        <p role="alert" className="upkit-error">
          {error}
        </p>
      ) : null}
    </li>
  )
}
