export type { AttachmentDropzoneProps } from './attachment-dropzone'
export { AttachmentDropzone } from './attachment-dropzone'
export type { AttachmentListItem, AttachmentListProps } from './attachment-list'
export { AttachmentList } from './attachment-list'
export type { RetryPolicy } from './backoff'
export type { ProgressSample, ProgressSummary } from './progress'
export { formatDuration, summarizeProgress } from './progress'
export type {
  UpkitFilePhase,
  UpkitFileState,
  UpkitUploadBody,
  UpkitUploaderOptions,
  UpkitUploaderState,
} from './upkit-uploader'
export { UpkitUploader } from './upkit-uploader'
export type {
  AttachmentUpload,
  AttachmentUploadStatus,
  AttachmentUploads,
  UseAttachmentUploadsOptions,
} from './use-attachment-uploads'
export { useAttachmentUploads } from './use-attachment-uploads'
