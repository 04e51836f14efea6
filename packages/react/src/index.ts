export type { AttachmentDropzoneProps } from './attachment-dropzone'
export { AttachmentDropzone } from './attachment-dropzone'
export type { AttachmentListItem, AttachmentListProps } from './attachment-list'
export { AttachmentList } from './attachment-list'
export type { RetryPolicy } from './backoff'
export type { CommentEditorProps } from './comment-editor'
export { CommentEditor } from './comment-editor'
export type { PreparedLogo } from './logo-image'
export { prepareLogo } from './logo-image'
export type { LogoPickerProps } from './logo-picker'
export { LogoPicker } from './logo-picker'
export type { RenderSafeMarkdownOptions, SafeMarkdownOptions } from './safe-markdown'
export { renderSafeMarkdown } from './safe-markdown'
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
export type {
  InlineImageStatus,
  InlineImageUpload,
  InlineImageUploads,
  UseInlineImageUploadsOptions,
} from './use-inline-image-uploads'
export { useInlineImageUploads } from './use-inline-image-uploads'
