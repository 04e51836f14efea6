import type { RouteCall } from '@upkit/core'
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
}

/**
 * The whole feature for one route and input: the confirmed files (download, delete) above a drop zone whose
 * finished files join the list at once. Built from `useUploadList`, `UploadList` and `UploadDropzone`, which hosts
 * use directly for another layout.
 */
export function UploadManager<TCall extends RouteCall, TRoute extends TCall['route']>(
  props: UploadManagerProps<TCall, TRoute>,
) {
  const { listLabel, emptyText, readOnly = false, onUploaded, ...dropzone } = props
  const list = useUploadList(props)
  return (
    <div className="upkit-upload-manager">
      {list.isPending ? <p className="upkit-loading">Loading…</p> : null}
      {list.error ? <p role="alert">{list.error.message}</p> : null}
      {list.uploads ? (
        <UploadList
          uploads={list.uploads}
          getDownloadUrl={list.downloadUrl}
          {...(readOnly ? {} : { onDelete: list.remove })}
          {...(listLabel === undefined ? {} : { label: listLabel })}
          {...(emptyText === undefined ? {} : { emptyText })}
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
