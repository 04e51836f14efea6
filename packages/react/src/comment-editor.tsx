import {
  DEFAULT_UPKIT_PATHS,
  fileUrl,
  type RouteCall,
  type RouteCallOf,
  type UpkitPaths,
  type UploadApi,
} from '@upkit/core'
import {
  type ClipboardEvent,
  type DragEvent,
  type FormEvent,
  useCallback,
  useEffect,
  useId,
  useLayoutEffect,
  useRef,
  useState,
} from 'react'
import {
  imageReference,
  insertAtSelection,
  removePlaceholder,
  replacePlaceholder,
  uploadingPlaceholder,
} from './comment-draft'
import { clipboardFiles } from './data-transfer-files'
import { type PastedImage, usePastedImages } from './use-pasted-images'

export interface CommentEditorProps<TCall extends RouteCall, TRoute extends TCall['route']> {
  readonly api: UploadApi<TCall>
  /** The bucket route pasted and dropped images go to (`'commentImage'`); its policy says which files it takes. */
  readonly route: TRoute
  /** The route's input (`{ taskId }`). */
  readonly input: RouteCallOf<TCall, TRoute>['input']
  /**
   * Where the server serves files, for the Markdown the editor writes (`![name](<files><id>)`). Default
   * `DEFAULT_UPKIT_PATHS`; give the same paths as the server's `paths` option.
   */
  readonly paths?: Partial<UpkitPaths>
  /**
   * Posts the Markdown body. Reject with an `Error` whose message people should read; it is shown as an alert
   * and the draft is kept. On success the editor is cleared.
   */
  readonly onSubmit: (body: string) => Promise<unknown>
  /** Textarea label. Default "Comment". */
  readonly label?: string
  readonly className?: string
}

interface InlineImage {
  readonly name: string
  readonly placeholder: string
  readonly confirmed: boolean
}

interface Draft {
  readonly body: string
  /** Images pasted into this draft, by uploader file id. */
  readonly images: Readonly<Record<string, InlineImage>>
}

const EMPTY: Draft = { body: '', images: {} }

/**
 * A Markdown textarea where pasted or dropped images upload straight to the bucket (to `route`, the same
 * signed, confirmed pipeline as any upload). Each image first appears as `![Uploading name…]()` at the caret,
 * then as `![name](/files/<uploadId>)` once confirmed. An image the route's policy refuses is never inserted:
 * the reason is shown as an alert. Posting while images upload waits for them; posting with a failed image is
 * refused with the reason.
 */
export function CommentEditor<TCall extends RouteCall, TRoute extends TCall['route']>({
  api,
  route,
  input,
  paths,
  onSubmit,
  label,
  className,
}: CommentEditorProps<TCall, TRoute>) {
  const filesPath = paths?.files ?? DEFAULT_UPKIT_PATHS.files
  const textareaId = useId()
  const textarea = useRef<HTMLTextAreaElement>(null)
  const [draft, setDraft] = useState<Draft>(EMPTY)
  const [notice, setNotice] = useState<string | null>(null)
  const [submitError, setSubmitError] = useState<string | null>(null)
  const [waiting, setWaiting] = useState(false)
  const [posting, setPosting] = useState(false)
  const pendingCaret = useRef<number | null>(null)

  const uploads = usePastedImages({
    api: api as UploadApi<RouteCall>,
    call: { route, input },
    onConfirmed: (fileId, upload) => {
      // Body and "confirmed" change in one update: a post can never see the one without the other.
      setDraft((current) => {
        const image = current.images[fileId]
        if (!image) return current
        return {
          body: replacePlaceholder(
            current.body,
            image.placeholder,
            imageReference(image.name, fileUrl({ ...DEFAULT_UPKIT_PATHS, files: filesPath }, upload.id)),
          ),
          images: { ...current.images, [fileId]: { ...image, confirmed: true } },
        }
      })
    },
  })

  const statusOf = (fileId: string) => uploads.files.find((file) => file.id === fileId)
  const inFlight = Object.entries(draft.images).filter(
    ([id, image]) => !image.confirmed && statusOf(id)?.status !== 'error',
  ).length
  const failed = uploads.files.filter((file) => file.status === 'error' && draft.images[file.id])

  // The caret goes after the inserted text once React has written the new value.
  useLayoutEffect(() => {
    if (pendingCaret.current === null || !textarea.current) return
    textarea.current.setSelectionRange(pendingCaret.current, pendingCaret.current)
    pendingCaret.current = null
  })

  const addImages = (files: readonly File[]) => {
    const element = textarea.current
    let body = draft.body
    let start = element?.selectionStart ?? body.length
    let end = element?.selectionEnd ?? body.length
    const images: Record<string, InlineImage> = {}
    const refusals: string[] = []
    for (const file of files) {
      const added = uploads.add(file)
      if ('error' in added) {
        refusals.push(added.error)
        continue
      }
      const placeholder = uploadingPlaceholder(file.name, body)
      const inserted = insertAtSelection(body, start, end, placeholder)
      body = inserted.body
      start = end = inserted.caret
      images[added.id] = { name: file.name, placeholder, confirmed: false }
    }
    setNotice(refusals.length > 0 ? refusals.join(' ') : null)
    if (Object.keys(images).length === 0) return
    pendingCaret.current = start
    setDraft((current) => ({ body, images: { ...current.images, ...images } }))
  }

  // While a post is on its way the draft is frozen (the textarea is read-only): the editor is cleared when the
  // post succeeds, and anything added meanwhile, text or image, would be lost with it.
  const onPaste = (event: ClipboardEvent<HTMLTextAreaElement>) => {
    const files = clipboardFiles(event.clipboardData)
    if (files.length === 0) return
    // Otherwise the browser would also paste the file's name (or nothing useful) as text.
    event.preventDefault()
    if (posting) return
    addImages(files)
  }

  const onDrop = (event: DragEvent<HTMLTextAreaElement>) => {
    if (event.dataTransfer.files.length === 0) return
    event.preventDefault()
    if (posting) return
    addImages(Array.from(event.dataTransfer.files))
  }

  const removeImage = (fileId: string) => {
    uploads.remove(fileId)
    setDraft((current) => {
      const image = current.images[fileId]
      if (!image) return current
      const { [fileId]: _removed, ...images } = current.images
      return {
        body: image.confirmed ? current.body : removePlaceholder(current.body, image.placeholder),
        images,
      }
    })
  }

  const submit = useCallback(
    async (body: string) => {
      setPosting(true)
      setSubmitError(null)
      try {
        await onSubmit(body)
        for (const id of Object.keys(draft.images)) uploads.remove(id)
        setDraft(EMPTY)
        setNotice(null)
      } catch (reason) {
        setSubmitError(
          reason instanceof Error && reason.message ? reason.message : 'The comment was not posted.',
        )
      } finally {
        setPosting(false)
      }
    },
    [onSubmit, draft.images, uploads.remove],
  )

  const blockedBy = (list: readonly PastedImage[]) =>
    `Cannot post yet: ${list.map((file) => `${file.name} did not upload (${file.error ?? 'unknown error'})`).join('; ')}. Retry or remove ${list.length === 1 ? 'it' : 'them'} first.`

  const post = (event: FormEvent) => {
    event.preventDefault()
    if (posting || waiting) return
    setSubmitError(null)
    if (failed.length > 0) {
      setSubmitError(blockedBy(failed))
      return
    }
    if (draft.body.trim() === '') {
      setSubmitError('Write something first.')
      return
    }
    if (inFlight > 0) {
      setWaiting(true)
      return
    }
    void submit(draft.body)
  }

  // A post that waited for images goes out as soon as the last one is confirmed, or stops at the first failure.
  useEffect(() => {
    if (!waiting || inFlight > 0) return
    setWaiting(false)
    if (failed.length > 0) setSubmitError(blockedBy(failed))
    else void submit(draft.body)
  })

  const buttonText = waiting
    ? `Waiting for ${inFlight} image${inFlight === 1 ? '' : 's'}…`
    : posting
      ? 'Posting…'
      : 'Post comment'

  const listed = uploads.files.filter((file) => draft.images[file.id] && file.status !== 'done')
  return (
    <form className={['upkit-comment-editor', className].filter(Boolean).join(' ')} onSubmit={post}>
      <label htmlFor={textareaId}>{label ?? 'Comment'}</label>
      <textarea
        id={textareaId}
        ref={textarea}
        rows={5}
        value={draft.body}
        readOnly={posting}
        aria-busy={posting || waiting}
        onChange={(event) => setDraft((current) => ({ ...current, body: event.target.value }))}
        onPaste={onPaste}
        onDragOver={(event) => {
          // Only file drags are ours; dragging text inside the textarea keeps the browser's behaviour.
          if (event.dataTransfer.types.includes('Files')) event.preventDefault()
        }}
        onDrop={onDrop}
        aria-describedby={`${textareaId}-hint`}
      />
      <p id={`${textareaId}-hint`} className="upkit-hint">
        Markdown: **bold**, *italic*, `code`, [links](https://…). Paste or drop images to attach them.
      </p>
      {listed.length > 0 ? (
        <ul className="upkit-uploads" aria-label="Image uploads">
          {listed.map((file) => (
            <li key={file.id} className={`upkit-upload upkit-${file.status}`}>
              <span className="upkit-name">{file.name}</span>
              <progress max={100} value={file.percent} aria-label={`Upload of ${file.name}`}>
                {file.percent}%
              </progress>
              <span className="upkit-percent">{file.percent}%</span>
              {file.status === 'error' ? (
                <>
                  <span role="alert" className="upkit-error">
                    {file.error}
                  </span>
                  {file.retryable ? (
                    <button
                      type="button"
                      aria-label={`Retry upload of ${file.name}`}
                      onClick={() => uploads.retry(file.id)}
                    >
                      Retry
                    </button>
                  ) : null}
                </>
              ) : null}
              <button type="button" aria-label={`Remove ${file.name}`} onClick={() => removeImage(file.id)}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      {notice ? (
        <p role="alert" className="upkit-error">
          {notice}
        </p>
      ) : null}
      {submitError ? (
        <p role="alert" className="upkit-error">
          {submitError}
        </p>
      ) : null}
      {/* aria-disabled, not disabled: disabling the focused button would drop keyboard focus to the page;
          submitting meanwhile is ignored. */}
      <button type="submit" aria-disabled={posting || waiting}>
        {buttonText}
      </button>
    </form>
  )
}
