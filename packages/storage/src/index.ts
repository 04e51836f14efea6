export { abortMultipartUploads, browserUploadCors } from './bucket-helpers'
export type {
  BucketStorage,
  CompletedPart,
  CorsRule,
  CreateMultipartUploadInput,
  EnsureBucketInput,
  EnsureBucketResult,
  ListedObject,
  MultipartUploadInfo,
  MultipartUploadRef,
  ObjectHead,
  ObjectMetadata,
  PresignCreateMultipartUploadInput,
  PresignedRequest,
  PresignGetInput,
  PresignMultipartInput,
  PresignPutInput,
  PresignUploadPartInput,
  PutObjectInput,
  UploadedPart,
  UploadPartInput,
} from './bucket-storage'
export type { StorageConfigResult } from './config'
export { storageConfigFromEnv } from './config'
export { contentDisposition, contentDispositionAttachment } from './content-disposition'
export type {
  BucketDoctorOptions,
  DoctorCheckId,
  DoctorCheckResult,
  DoctorReport,
  DoctorStatus,
} from './doctor'
export {
  bucketDoctorHealthCheck,
  DOCTOR_CHECK_IDS,
  ensureAbortIncompleteMultipartRule,
  formatDoctorReport,
  runBucketDoctor,
} from './doctor'
export { s3Presets } from './presets'
export type { S3Credentials, S3Provider, S3StorageConfig } from './s3-bucket-storage'
export { createS3BucketStorage } from './s3-bucket-storage'
