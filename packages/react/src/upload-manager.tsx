import type { RouteCall, UpkitPaths } from '@upkit/core'
import { UploadDropzone, type UploadDropzoneProps } from './upload-dropzone'
import { UploadList } from './upload-list'
import { useUploadList } from './use-upload-list'

export interface UploadManagerProps<TCall extends RouteCall, TRoute extends TCall['route']>
  extends UploadDropzoneProps<TCall, TRoute> {
  /** Accessible name of the file list. Default "Files": name what they are ("Attachments"). */
  readonly listLabel?: string
  /** Shown when there are no files. Default "No files yet." */
  readonly emptyText?: string
  /** Hides Delete. Default `false`: people remove what they uploaded by mistake. */
  readonly readOnly?: boolean
  /** Where the server serves files (each Download links to `<files><id>`). Default `DEFAULT_UPKIT_PATHS`. */
  readonly paths?: Partial<UpkitPaths>
  /**
   * `'link'` (default): each Download is a link to the app's `/files/<id>`, which works when the app's auth
   * travels with a plain request (a cookie). `'button'`: a button that asks `api.download` for a signed URL on
   * click, for apps whose auth does not (a bearer token).
   */
  readonly downloads?: 'link' | 'button'
  /** See `UploadListProps.uploaderName`. Default: no uploader names, only when each file was uploaded. */
  readonly uploaderName?: (uploadedBy: string) => string | undefined
}

/**
 * The whole feature for one route and input: the confirmed files (download, delete) above a drop zone whose
 * finished files join the list at once. Built from `useUploadList`, `UploadList` and `UploadDropzone`, which hosts
 * use directly for another layout.
 */
export function UploadManager<TCall extends RouteCall, TRoute extends TCall['route']>(
  props: UploadManagerProps<TCall, TRoute>,
) {
  const {
    listLabel,
    emptyText,
    readOnly = false,
    paths,
    downloads = 'link',
    uploaderName,
    onUploaded,
    ...dropzone
  } = props
  const list = useUploadList(props)
  return (
    <div className="upkit-upload-manager">
      {list.isPending ? <p className="upkit-loading">Loading…</p> : null}
      {list.error ? <p role="alert">{list.error.message}</p> : null}
      {list.uploads ? (
        <UploadList
          uploads={list.uploads}
          {...(paths === undefined ? {} : { paths })}
          {...(downloads === 'button' ? { getDownloadUrl: list.downloadUrl } : {})}
          {...(readOnly ? {} : { onDelete: list.remove })}
          {...(listLabel === undefined ? {} : { label: listLabel })}
          {...(emptyText === undefined ? {} : { emptyText })}
          {...(uploaderName === undefined ? {} : { uploaderName })}
        />
      ) : null}
      <UploadDropzone
        {...dropzone}
        onUploaded={(upload) => {
          list.added(upload)
          onUploaded?.(upload)
        }}
      />
    </div>
  )
}
