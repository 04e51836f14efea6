import { formatBytes, type RouteCall } from '@upkit/core'
import type Uppy from '@uppy/core'
import { UppyContextProvider, useDropzone, useFileInput } from '@uppy/react'
import { type ClipboardEvent, memo, useEffect, useMemo, useRef, useState } from 'react'
import { type AnnouncedState, progressAnnouncements } from './announcements'
import { clipboardFiles, pasteBelongsTo } from './data-transfer-files'
import { FileTypeIcon, UploadIcon } from './file-icons'
import { isRasterImage } from './image-canvas'
import { PageDropOverlay } from './page-drop-overlay'
import { type Upload, type Uploads, type UseUploadsOptions, useUploads } from './use-uploads'
import { VISUALLY_HIDDEN } from './visually-hidden'

export interface UploadDropzoneProps<TCall extends RouteCall, TRoute extends TCall['route']>
  extends UseUploadsOptions<TCall, TRoute> {
  /** Text of the file picker button (the file input's label). Default "Attach files". */
  readonly label?: string
  /** Extra class on the outer element, for the host's styles. */
  readonly className?: string
  /**
   * Where pasting files adds them: `'focus'` (default) when the focus is inside the drop zone (its button or a
   * row), so a paste elsewhere on the page is left to whatever is there; `'page'` for a paste anywhere outside a
   * text field or editable content (which keep their own paste: the comment editor uploads its images itself);
   * `false` never.
   */
  readonly paste?: 'focus' | 'page' | false
  /**
   * Given, a whole-page drop overlay with this text ("Drop files to attach to Q3 report") shows while files are
   * dragged over the window, and files dropped anywhere no other target takes go to this drop zone. Default
   * none: only one drop zone on a page can own the page's drops, and the host knows which.
   */
  readonly pageDrop?: string
}

/** Status words per upload phase; a phase missing here (added later) shows its own name. */
const STATUS_TEXT: Readonly<Record<string, string>> = {
  queued: 'Waiting',
  uploading: 'Uploading',
  retrying: 'Connection lost, retrying…',
  confirming: 'Checking the file…',
  done: 'Uploaded',
  error: 'Failed',
}

/**
 * A drop zone whose picker is a button (a visually hidden but real, labelled `<input type=file>`: keyboard and
 * screen readers use it as they would any file input), totals on top (files, bytes, overall progress) and a
 * row per file with a preview of the local image or a type icon, its size, a progress bar with speed and time
 * left, Cancel while it travels, and its error when it fails, with Retry only when trying again can succeed.
 * Files can be dropped, chosen, or pasted (`paste`), and dropped anywhere on the page (`pageDrop`). A file the
 * route's policy refuses (empty, too large, wrong type, too many) is never added: its reason is shown as an
 * alert. Progress is announced to screen readers in quarter steps.
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
      <DropzoneView
        uploads={uploads}
        label={props.label}
        className={props.className}
        paste={props.paste ?? 'focus'}
        pageDrop={props.pageDrop}
      />
    </UppyContextProvider>
  )
}

function DropzoneView({
  uploads,
  label,
  className,
  paste,
  pageDrop,
}: {
  uploads: Uploads
  label: string | undefined
  className: string | undefined
  paste: 'focus' | 'page' | false
  pageDrop: string | undefined
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
  const { addFiles } = uploads
  const pickerFocus = useFocusVisible()

  const onPaste = (event: ClipboardEvent<HTMLDivElement>) => {
    if (paste === false || pasteBelongsTo(event.target)) return
    const files = clipboardFiles(event.clipboardData)
    if (files.length === 0) return
    // Handled here: a page-wide listener must not add the same files again.
    event.preventDefault()
    addFiles(files)
  }
  usePagePaste(paste === 'page', addFiles)

  return (
    <div className={['upkit-dropzone', className].filter(Boolean).join(' ')} onPaste={onPaste}>
      {pageDrop ? <PageDropOverlay label={pageDrop} onFiles={addFiles} /> : null}
      {/* Dropping is a shortcut; the labelled input is the keyboard and screen reader path. */}
      <div
        {...getRootProps()}
        className={dragging ? 'upkit-dropzone-target upkit-dragging' : 'upkit-dropzone-target'}
      >
        <UploadIcon />
        <p className="upkit-dropzone-hint">Drop files here{paste === false ? '' : ', paste'} or</p>
        {/* Visually hidden, not `display: none`: it stays in the tab order and the accessibility tree, and the
            label below is what people see and click. */}
        <input
          {...inputProps}
          className="upkit-file-input"
          style={VISUALLY_HIDDEN}
          {...pickerFocus.handlers}
        />
        <label
          htmlFor={inputProps.id}
          className={
            pickerFocus.visible
              ? 'upkit-button upkit-picker upkit-focus-visible'
              : 'upkit-button upkit-picker'
          }
          // Inline as well as in the stylesheet: the focus ring must show even when the host ships no CSS.
          style={pickerFocus.visible ? FOCUS_RING : undefined}
        >
          {label ?? 'Attach files'}
        </label>
        {policy ? <p className="upkit-dropzone-rules">{rulesText(policy)}</p> : null}
      </div>

      {uploads.queued > 0 ? (
        <p role="status" className="upkit-loading">
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
          <Totals files={uploads.files} total={uploads.total} />
          <ul className="upkit-uploads" aria-label="Uploads">
            {uploads.files.map((file) => {
              const local = uploads.uppy.getFile(file.id)
              return (
                <UploadRow
                  key={file.id}
                  file={file}
                  data={(local?.data as Blob | undefined) ?? null}
                  mimeType={local?.type ?? ''}
                  onCancel={uploads.cancel}
                  onRetry={uploads.retry}
                />
              )
            })}
          </ul>
        </>
      ) : null}
      <p className="upkit-sr-only" style={VISUALLY_HIDDEN} aria-live="polite" aria-atomic="true">
        {announcement}
      </p>
    </div>
  )
}

const FOCUS_RING = { outline: '2px solid currentColor', outlineOffset: 2 } as const

/** "Up to 5 GiB each, 50 at a time": the route's rules, so people learn them before a refusal. */
function rulesText(policy: { maxBytes: number; maxFiles: number }): string {
  return `Up to ${formatBytes(policy.maxBytes)} each, ${policy.maxFiles} at a time`
}

/**
 * Whether the hidden input has keyboard focus (`:focus-visible`), to draw the ring on its label: the input itself
 * is invisible, and a ring on mouse clicks would only be noise.
 */
function useFocusVisible() {
  const [visible, setVisible] = useState(false)
  const handlers = useMemo(
    () => ({
      onFocus: (event: { currentTarget: HTMLElement }) => {
        let keyboard = true
        try {
          keyboard = event.currentTarget.matches(':focus-visible')
        } catch {
          // Browsers without :focus-visible: show the ring, as for any focus.
        }
        setVisible(keyboard)
      },
      onBlur: () => setVisible(false),
    }),
    [],
  )
  return { visible, handlers }
}

/** Files pasted anywhere on the page (outside text fields and drop zones that handled them) while `enabled`. */
function usePagePaste(enabled: boolean, addFiles: (files: File[]) => void) {
  const add = useRef(addFiles)
  add.current = addFiles
  useEffect(() => {
    if (!enabled) return
    const onPaste = (event: globalThis.ClipboardEvent) => {
      if (event.defaultPrevented || pasteBelongsTo(event.target)) return
      const files = clipboardFiles(event.clipboardData)
      if (files.length === 0) return
      event.preventDefault()
      add.current(files)
    }
    document.addEventListener('paste', onPaste)
    return () => document.removeEventListener('paste', onPaste)
  }, [enabled])
}

function Totals({ files, total }: { files: readonly Upload[]; total: Uploads['total'] }) {
  const failed = files.filter((file) => file.status === 'error').length
  const done = files.filter((file) => file.status === 'done').length
  return (
    <div className="upkit-totals">
      <p className="upkit-totals-text">
        <strong>
          {files.length} {files.length === 1 ? 'file' : 'files'}
        </strong>
        <span>
          {formatBytes(total.bytesUploaded)} of {formatBytes(total.size)}
        </span>
        {done > 0 ? <span>{done} uploaded</span> : null}
        {failed > 0 ? <span className="upkit-totals-failed">{failed} failed</span> : null}
        <span className="upkit-totals-percent">{total.percent}%</span>
      </p>
      <progress className="upkit-progress" max={100} value={total.percent} aria-label="Total progress">
        {total.percent}%
      </progress>
    </div>
  )
}

interface UploadRowProps {
  readonly file: Upload
  /** The local file, for a preview while it uploads (null once it left Uppy). */
  readonly data: Blob | null
  readonly mimeType: string
  readonly onCancel: (id: string) => void
  readonly onRetry: (id: string) => void
}

/**
 * One file. Memoized on what it shows: `useUploads` describes every file anew on each progress tick, and 200 rows
 * re-rendering for one file's tick would make the list crawl.
 */
const UploadRow = memo(function UploadRow({ file, data, mimeType, onCancel, onRetry }: UploadRowProps) {
  const inFlight = file.status === 'queued' || file.status === 'uploading' || file.status === 'retrying'
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
  return (
    <img
      className="upkit-thumbnail"
      src={url}
      alt={`Preview of ${name}`}
      width={40}
      height={40}
      loading="lazy"
      decoding="async"
      onError={() => setBroken(true)}
    />
  )
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
