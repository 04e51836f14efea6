import { type IMAGE_TYPES, LOGO_POLICY } from '@upkit/core'
import { useEffect, useId, useState } from 'react'
import { type PreparedLogo, prepareLogo } from './logo-image'
import { useFileDrop } from './use-file-drop'
import { VISUALLY_HIDDEN } from './visually-hidden'

export interface LogoPickerProps {
  /** The company the logo belongs to; a new id resets the picker. */
  readonly companyId: string
  /** The saved logo's URL, or null when the company has none. The host refreshes it after save and remove. */
  readonly currentLogoUrl: string | null
  /**
   * Saves the prepared logo (standard base64 of a WebP or PNG at most 512x512). Reject with an `Error` whose
   * message people should read (a tRPC client error's message is the server's): it is shown as an alert.
   */
  readonly onSave: (imageBase64: string) => Promise<unknown>
  /** Removes the saved logo; rejections are shown like `onSave`'s. */
  readonly onRemove: () => Promise<unknown>
  /** Alt text of the images. Default "Company logo". */
  readonly alt?: string
  readonly className?: string
}

/** "PNG, JPEG, WebP or GIF", from the policy, so the hint never drifts from what the server takes. */
const TYPE_NAMES: Record<(typeof IMAGE_TYPES)[number], string> = {
  'image/png': 'PNG',
  'image/jpeg': 'JPEG',
  'image/webp': 'WebP',
  'image/gif': 'GIF',
}
const typeNames = LOGO_POLICY.allowedTypes.map((type) => TYPE_NAMES[type])
const TYPES_HINT = `${typeNames.slice(0, -1).join(', ')} or ${typeNames.at(-1)}`
const ACCEPT = LOGO_POLICY.allowedTypes.join(',')

type Pending = PreparedLogo & { readonly previewUrl: string; readonly sourceName: string }

/**
 * Choose or drop an image, see it downscaled, then save it. The image is resized and re-encoded in the browser
 * (see `prepareLogo`), so what is previewed is exactly what is sent; the server still checks it all again.
 * Host-agnostic: it takes callbacks, never a tRPC client.
 */
export function LogoPicker({ companyId, currentLogoUrl, onSave, onRemove, alt, className }: LogoPickerProps) {
  const inputId = useId()
  const [pending, setPending] = useState<Pending | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState<'preparing' | 'saving' | 'removing' | null>(null)
  const [saved, setSaved] = useState<string | null>(null)

  // The preview's object URL lives exactly as long as the pending logo.
  useEffect(() => {
    if (!pending) return
    return () => URL.revokeObjectURL(pending.previewUrl)
  }, [pending])

  // biome-ignore lint/correctness/useExhaustiveDependencies: companyId is the trigger, not an input
  useEffect(() => {
    setPending(null)
    setError(null)
    setSaved(null)
  }, [companyId])

  const choose = async (file: File | undefined) => {
    // Ignored while busy rather than disabling the input, which would drop its focus.
    if (!file || busy !== null) return
    setError(null)
    setSaved(null)
    setBusy('preparing')
    try {
      const logo = await prepareLogo(file)
      setPending({ ...logo, previewUrl: URL.createObjectURL(logo.blob), sourceName: file.name })
    } catch (reason) {
      // The previous choice (and the saved logo) stay as they were: a refused file changes nothing.
      setError(messageOf(reason))
    } finally {
      setBusy(null)
    }
  }

  const save = async () => {
    if (!pending || busy !== null) return
    setError(null)
    setBusy('saving')
    try {
      await onSave(pending.base64)
      setPending(null)
      setSaved('Logo saved.')
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
      await onRemove()
      setPending(null)
      setSaved('Logo removed.')
    } catch (reason) {
      setError(messageOf(reason))
    } finally {
      setBusy(null)
    }
  }

  const dropTarget = useFileDrop((files) => void choose(files[0]))

  const label = alt ?? 'Company logo'
  return (
    <div className={['upkit-logo-picker', className].filter(Boolean).join(' ')}>
      <div className="upkit-logo-current">
        {currentLogoUrl ? (
          <img src={currentLogoUrl} alt={`Current ${label.toLowerCase()}`} className="upkit-logo-image" />
        ) : (
          <p className="upkit-empty">No logo yet.</p>
        )}
      </div>
      {/* Dropping is a shortcut; the labelled input below is the keyboard and screen reader path. */}
      <div {...dropTarget}>
        <p>Drop an image here, or</p>
        <label htmlFor={inputId}>Company logo</label>
        <input
          id={inputId}
          type="file"
          // A hint for the file dialog only; the bytes decide (see `logoSourceRefusal`).
          accept={ACCEPT}
          aria-busy={busy !== null}
          onChange={(event) => {
            void choose(event.currentTarget.files?.[0])
            // Cleared so choosing the same file again fires change again.
            event.currentTarget.value = ''
          }}
        />
        <p className="upkit-hint">{TYPES_HINT}. It is resized to fit 512×512.</p>
      </div>

      <p role="status" className="loading">
        {busy === 'preparing' ? 'Preparing the image…' : ''}
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
        <button type="button" onClick={() => void save()} aria-disabled={!pending || busy !== null}>
          {busy === 'saving' ? 'Saving…' : 'Save logo'}
        </button>
        {currentLogoUrl ? (
          <button type="button" onClick={() => void remove()} aria-disabled={busy !== null}>
            {busy === 'removing' ? 'Removing…' : 'Remove logo'}
          </button>
        ) : null}
        {pending ? (
          <button
            type="button"
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
