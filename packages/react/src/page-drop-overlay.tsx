import { useEffect, useRef, useState } from 'react'
import { dragHasFiles } from './data-transfer-files'
import { UploadIcon } from './file-icons'
import { VISUALLY_HIDDEN } from './visually-hidden'

export interface PageDropOverlayProps {
  /** What dropping does, shown and announced while files are dragged over the window ("Drop files to attach to Q3 report"). */
  readonly label: string
  /** Receives the files dropped anywhere on the page that no other drop target took. */
  readonly onFiles: (files: File[]) => void
  readonly className?: string
}

/**
 * While files are dragged over the window, a frame around the whole page says where they will go, and dropping
 * them anywhere hands them to `onFiles`. Drop targets of their own (a comment editor, the drop zone itself) keep
 * their drops: the overlay lets pointer events through and only takes drops nobody handled
 * (`defaultPrevented`). The label is announced through a live region; the overlay goes when the drag leaves the
 * window, ends, or Escape is pressed.
 */
export function PageDropOverlay({ label, onFiles, className }: PageDropOverlayProps) {
  const [visible, setVisible] = useState(false)
  const onFilesRef = useRef(onFiles)
  onFilesRef.current = onFiles

  useEffect(() => {
    // dragenter and dragleave fire for every element crossed; the drag is over the window while they balance.
    let depth = 0
    const hide = () => {
      depth = 0
      setVisible(false)
    }
    const onEnter = (event: DragEvent) => {
      if (!dragHasFiles(event.dataTransfer)) return
      depth += 1
      setVisible(true)
    }
    const onLeave = (event: DragEvent) => {
      if (!dragHasFiles(event.dataTransfer)) return
      depth = Math.max(0, depth - 1)
      if (depth === 0) setVisible(false)
    }
    const onOver = (event: DragEvent) => {
      // Without this the browser would open a file dropped outside every target in the tab, losing the page.
      if (dragHasFiles(event.dataTransfer)) event.preventDefault()
    }
    const onDrop = (event: DragEvent) => {
      if (!dragHasFiles(event.dataTransfer)) return
      hide()
      if (event.defaultPrevented) return
      event.preventDefault()
      const files = Array.from(event.dataTransfer?.files ?? [])
      if (files.length > 0) onFilesRef.current(files)
    }
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') hide()
    }
    // Captured: a drop target that stops propagation (Uppy's dropzone does) would otherwise unbalance the count.
    window.addEventListener('dragenter', onEnter, true)
    window.addEventListener('dragleave', onLeave, true)
    window.addEventListener('dragover', onOver)
    window.addEventListener('drop', onDrop)
    window.addEventListener('dragend', hide)
    window.addEventListener('keydown', onKey)
    return () => {
      window.removeEventListener('dragenter', onEnter, true)
      window.removeEventListener('dragleave', onLeave, true)
      window.removeEventListener('dragover', onOver)
      window.removeEventListener('drop', onDrop)
      window.removeEventListener('dragend', hide)
      window.removeEventListener('keydown', onKey)
    }
  }, [])

  return (
    <>
      {visible ? (
        <div
          className={['upkit-page-drop', className].filter(Boolean).join(' ')}
          aria-hidden="true"
          // Inline so the overlay never blocks the page, even without upkit's stylesheet.
          style={{ position: 'fixed', inset: 0, pointerEvents: 'none', zIndex: 2147483000 }}
        >
          <div className="upkit-page-drop-label">
            <UploadIcon />
            {label}
          </div>
        </div>
      ) : null}
      {/* role="status" is polite by itself; no aria-live attribute, so hosts looking for the drop zone's own
          progress region (`[aria-live]`) still find exactly one. */}
      <p className="upkit-sr-only" style={VISUALLY_HIDDEN} role="status">
        {visible ? label : ''}
      </p>
    </>
  )
}
