/**
 * A file's small preview in a list row: fixed 40x40 so rows never jump when images load, lazy so 200 rows decode
 * only as they scroll into view. The drop zone shows the local file with it, the list the server's thumbnail.
 */
export function ThumbnailImage({
  src,
  fileName,
  onError,
}: {
  src: string
  fileName: string
  onError?: () => void
}) {
  return (
    <img
      className="upkit-thumbnail"
      src={src}
      alt={`Preview of ${fileName}`}
      width={40}
      height={40}
      loading="lazy"
      decoding="async"
      onError={onError}
    />
  )
}
