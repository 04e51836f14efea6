import { formatBytes, type RouteCall } from '@upkit/core'
import type Uppy from '@uppy/core'
import { UppyContextProvider, useDropzone, useFileInput } from '@uppy/react'
import { type ClipboardEvent, useEffect, useMemo, useRef, useState } from 'react'
import { type AnnouncedState, progressAnnouncements } from './announcements'
import { clipboardFiles, pasteBelongsTo } from './data-transfer-files'
import { UploadIcon } from './file-icons'
import { PageDropOverlay } from './page-drop-overlay'
import { UnfinishedUploadsView } from './unfinished-uploads'
import { UploadRow } from './upload-row'
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
        <p className="upkit-dropzone-hint">
          {paste === false ? 'Drop files here, or' : 'Drop or paste files here, or'}
        </p>
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
      <UnfinishedUploadsView uploads={uploads} />
      {uploads.files.length > 0 ? (
        <>
          <Totals uploads={uploads} />
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
                  onPause={uploads.pause}
                  onResume={uploads.resume}
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

function Totals({ uploads }: { uploads: Uploads }) {
  const { files, total } = uploads
  const failed = files.filter((file) => file.status === 'error').length
  const done = files.filter((file) => file.status === 'done').length
  const sending = files.filter(
    (file) => file.status === 'uploading' || file.status === 'retrying' || file.status === 'queued',
  ).length
  const paused = files.filter((file) => file.status === 'paused' || file.status === 'pausing').length
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
        {paused > 0 ? <span>{paused} paused</span> : null}
        <span className="upkit-totals-percent">{total.percent}%</span>
        {sending > 1 ? (
          <button type="button" className="upkit-button upkit-button-quiet" onClick={uploads.pauseAll}>
            Pause all
          </button>
        ) : null}
        {paused > 1 ? (
          <button type="button" className="upkit-button" onClick={uploads.resumeAll}>
            Resume all
          </button>
        ) : null}
      </p>
      <progress className="upkit-progress" max={100} value={total.percent} aria-label="Total progress">
        {total.percent}%
      </progress>
    </div>
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
