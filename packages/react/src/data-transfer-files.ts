/** Files in a paste: `files` where browsers fill it, else the file items (some put screenshots only there). */
export function clipboardFiles(data: DataTransfer | null): File[] {
  if (!data) return []
  const files = Array.from(data.files)
  if (files.length > 0) return files
  return Array.from(data.items)
    .filter((item) => item.kind === 'file')
    .map((item) => item.getAsFile())
    .filter((file): file is File => file !== null)
}

/** Whether a drag carries files (not text or a link being dragged inside the page). */
export function dragHasFiles(data: DataTransfer | null): boolean {
  return data !== null && Array.from(data.types).includes('Files')
}

/**
 * Whether a paste at `target` belongs to it rather than to a page-wide paste handler: text fields and editable
 * content keep their own paste (the comment editor uploads pasted images itself).
 */
export function pasteBelongsTo(target: EventTarget | null): boolean {
  if (!(target instanceof Element)) return false
  if (target instanceof HTMLTextAreaElement) return true
  if (target instanceof HTMLInputElement) return target.type !== 'file' && target.type !== 'button'
  return target.closest('[contenteditable=""], [contenteditable="true"]') !== null
}
