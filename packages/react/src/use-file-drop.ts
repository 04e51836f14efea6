import { type DragEvent, useState } from 'react'

/** Props for a drop target element; spread them onto it. */
export interface FileDropTarget {
  readonly className: string
  onDragEnter(event: DragEvent<HTMLElement>): void
  onDragOver(event: DragEvent<HTMLElement>): void
  onDragLeave(): void
  onDrop(event: DragEvent<HTMLElement>): void
}

/**
 * A drop target (class `upkit-dropzone-target`, plus `upkit-dragging` while files are dragged over it) that
 * hands dropped files to `onFiles`. The browser's default, opening the file in the tab, is prevented.
 */
export function useFileDrop(onFiles: (files: FileList) => void): FileDropTarget {
  const [dragging, setDragging] = useState(false)
  return {
    className: dragging ? 'upkit-dropzone-target upkit-dragging' : 'upkit-dropzone-target',
    onDragEnter: (event) => {
      event.preventDefault()
      setDragging(true)
    },
    onDragOver: (event) => event.preventDefault(),
    onDragLeave: () => setDragging(false),
    onDrop: (event) => {
      event.preventDefault()
      setDragging(false)
      onFiles(event.dataTransfer.files)
    },
  }
}
