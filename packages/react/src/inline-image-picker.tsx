import type {
  PublicRoutePolicy,
  ResolvedInlineImagePolicy,
  RouteCall,
  RouteCallOf,
  StoredInlineImage,
  UploadApi,
} from '@upkit/core'
import { useEffect, useId, useRef, useState } from 'react'
import { type PreparedImage, prepareInlineImage, typeNames } from './inline-image'
import { useRoutePolicy } from './route-policies'
import { useFileDrop } from './use-file-drop'
import { VISUALLY_HIDDEN } from './visually-hidden'

export interface InlineImagePickerProps<TCall extends RouteCall, TRoute extends TCall['route']> {
  /** `uploadApiFromTRPC(client.uploads)`; its route calls type `route` and `input`. */
  readonly api: UploadApi<TCall>
  /** An inline route of the server (`'companyLogo'`): the image goes through `api.setInline` into the app's table. */
  readonly route: TRoute
  /** The route's input (`{}` when the owner comes from the session). A new route or input resets the picker. */
  readonly input: RouteCallOf<TCall, TRoute>['input']
  /** The saved image's URL, or null when there is none. The host refreshes it in `onChange`. */
  readonly currentUrl: string | null
  /** The file input's label, also the start of alt texts: "Company logo". */
  readonly label: string
  /** The image in buttons and messages ("Save logo", "Logo saved."). Default: `label` in lower case. */
  readonly noun?: string
  /**
   * Called after a save (with the stored image) or a removal (with null); the host refreshes `currentUrl` here.
   * Default none.
   */
  readonly onChange?: (image: StoredInlineImage | null) => unknown
  /**
   * The route's policy. Default: the server's, from `api.policies()` (fetched once per api object), so the image
   * is prepared to the server's size, types and dimensions.
   */
  readonly policy?: ResolvedInlineImagePolicy
  readonly className?: string
}

type Pending = PreparedImage & { readonly previewUrl: string; readonly sourceName: string }

/**
 * Choose or drop an image, see it downscaled, then save it to an inline route. The image is resized and
 * re-encoded in the browser to the route's policy (see `prepareInlineImage`), so what is previewed is exactly
 * what is sent; the server still checks it all again.
 */
export function InlineImagePicker<TCall extends RouteCall, TRoute extends TCall['route']>({
  api,
  route,
  input,
  currentUrl,
  label,
  noun: nounOption,
  onChange,
  policy: policyOverride,
  className,
}: InlineImagePickerProps<TCall, TRoute>) {
  const inputId = useId()
  const { state: policyState, reload: reloadPolicy } = useRoutePolicy(
    api as UploadApi<RouteCall>,
    route,
    'inline',
    policyOverride as Omit<Extract<PublicRoutePolicy, { type: 'inline' }>, 'type'> | undefined,
  )
  const policy = policyState.status === 'ready' ? policyState.policy : null
  const latestOnChange = useRef(onChange)
  latestOnChange.current = onChange
  const call = { route, input } as RouteCall
  const callKey = JSON.stringify([route, input])
  const [pending, setPending] = useState<Pending | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState<'preparing' | 'saving' | 'removing' | null>(null)
  const [saved, setSaved] = useState<string | null>(null)

  // The preview's object URL lives exactly as long as the pending logo.
  useEffect(() => {
    if (!pending) return
    return () => URL.revokeObjectURL(pending.previewUrl)
  }, [pending])

  // biome-ignore lint/correctness/useExhaustiveDependencies: the route call is the trigger, not an input
  useEffect(() => {
    setPending(null)
    setError(null)
    setSaved(null)
  }, [callKey])

  // A file chosen before the route's rules arrived: prepared as soon as they do, rather than asking the person to
  // choose it again (on a slow connection the rules can arrive after the dialog closes).
  const [waiting, setWaiting] = useState<File | null>(null)

  const choose = async (file: File | undefined) => {
    // Ignored while busy rather than disabling the input, which would drop its focus.
    if (!file || busy !== null) return
    setError(null)
    setSaved(null)
    if (!policy) {
      if (policyState.status === 'failed') {
        setError(policyState.message)
        reloadPolicy()
      } else setWaiting(file)
      return
    }
    setBusy('preparing')
    try {
      const image = await prepareInlineImage(file, policy)
      setPending({ ...image, previewUrl: URL.createObjectURL(image.blob), sourceName: file.name })
    } catch (reason) {
      // The previous choice (and the saved logo) stay as they were: a refused file changes nothing.
      setError(messageOf(reason))
    } finally {
      setBusy(null)
    }
  }

  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the rules arrive, for the file that waited
  useEffect(() => {
    if (!policy || !waiting) return
    setWaiting(null)
    void choose(waiting)
  }, [policy, waiting])

  const save = async () => {
    if (!pending || busy !== null) return
    setError(null)
    setBusy('saving')
    try {
      const stored = await api.setInline({ ...call, imageBase64: pending.base64 } as TCall & {
        imageBase64: string
      })
      await latestOnChange.current?.(stored)
      setPending(null)
      setSaved(`${capitalize(noun)} saved.`)
    } catch (reason) {
      setError(messageOf(reason))
    } finally {
      setBusy(null)
    }
  }

  const remove = async () => {
    if (busy !== null) return
    setError(null)
    setBusy('removing')
    try {
      await api.removeInline(call as TCall)
      await latestOnChange.current?.(null)
      setPending(null)
      setSaved(`${capitalize(noun)} removed.`)
    } catch (reason) {
      setError(messageOf(reason))
    } finally {
      setBusy(null)
    }
  }

  const dropTarget = useFileDrop((files) => void choose(files[0]))

  const types = policy?.types ?? []
  const noun = nounOption ?? label.toLowerCase()
  return (
    <div className={['upkit-logo-picker', className].filter(Boolean).join(' ')}>
      <div className="upkit-logo-current">
        {currentUrl ? (
          <img src={currentUrl} alt={`Current ${label.toLowerCase()}`} className="upkit-logo-image" />
        ) : (
          <p className="upkit-empty">No {noun} yet.</p>
        )}
      </div>
      {/* Dropping is a shortcut; the labelled input below is the keyboard and screen reader path. */}
      <div {...dropTarget}>
        <p>Drop an image here, or</p>
        {/* Visually hidden, not `display: none`: it stays in the tab order and the accessibility tree, and the
            label after it is the button people see (its focus ring follows the input's, see styles.css). */}
        <input
          id={inputId}
          type="file"
          className="upkit-file-input"
          style={VISUALLY_HIDDEN}
          // A hint for the file dialog only; the bytes decide (see `sourceRefusal`).
          accept={types.length > 0 ? types.join(',') : 'image/*'}
          aria-busy={busy !== null}
          onChange={(event) => {
            void choose(event.currentTarget.files?.[0])
            // Cleared so choosing the same file again fires change again.
            event.currentTarget.value = ''
          }}
        />
        <label htmlFor={inputId} className="upkit-button upkit-picker">
          {label}
        </label>
        <p className="upkit-hint upkit-dropzone-rules">
          {policy
            ? `${typeNames(types)}. It is resized to fit ${policy.targetSize}×${policy.targetSize}.`
            : policyState.status === 'failed'
              ? policyState.message
              : 'Loading the image rules…'}
        </p>
      </div>

      <p role="status" className="loading">
        {busy === 'preparing' || waiting ? 'Preparing the image…' : ''}
      </p>
      {pending ? (
        <figure className="upkit-logo-preview">
          <img
            src={pending.previewUrl}
            alt={`New ${label.toLowerCase()} preview`}
            className="upkit-logo-image"
          />
          <figcaption>
            {pending.sourceName}: {pending.width}×{pending.height}, {Math.ceil(pending.blob.size / 1024)} KiB
          </figcaption>
        </figure>
      ) : null}

      <div className="upkit-logo-actions">
        {/* aria-disabled, not disabled: a button that disables itself while focused drops keyboard focus to the
            page; the handlers ignore presses meanwhile. */}
        <button
          type="button"
          className="upkit-button"
          onClick={() => void save()}
          aria-disabled={!pending || busy !== null}
        >
          {busy === 'saving' ? 'Saving…' : `Save ${noun}`}
        </button>
        {currentUrl ? (
          <button
            type="button"
            className="upkit-button upkit-button-quiet"
            onClick={() => void remove()}
            aria-disabled={busy !== null}
          >
            {busy === 'removing' ? 'Removing…' : `Remove ${noun}`}
          </button>
        ) : null}
        {pending ? (
          <button
            type="button"
            className="upkit-button upkit-button-quiet"
            onClick={() => {
              if (busy === null) setPending(null)
            }}
            aria-disabled={busy !== null}
          >
            Discard
          </button>
        ) : null}
      </div>
      {error ? (
        <p role="alert" className="upkit-error">
          {error}
        </p>
      ) : null}
      <p className="upkit-sr-only" style={VISUALLY_HIDDEN} aria-live="polite">
        {saved ?? ''}
      </p>
    </div>
  )
}

function messageOf(reason: unknown): string {
  return reason instanceof Error && reason.message ? reason.message : 'Something went wrong. Try again.'
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}
