export type {
  CreatedUpload,
  SignedPart,
  SignedRequest,
  SignRequestInput,
  UploadApi,
  UploadRecord,
} from './api-types'
export type { UpkitErrorCode, UpkitTransportCode } from './errors'
export { isUpkitError, UPKIT_ERROR_CODES, UpkitError } from './errors'
export type { ImageInfo } from './image-info'
export { readImageInfo } from './image-info'
export type { KeyScope, ObjectKeyParts } from './keys'
export { buildObjectKey, companyKeyPrefix, parseObjectKey } from './keys'
export { assertLogoAllowed, LOGO_MAX_BASE64_LENGTH, LOGO_POLICY } from './logo'
export type { FileDescription, FileKind, FilePolicy } from './policies'
export {
  assertFileAllowed,
  checkFileAllowed,
  FILE_KINDS,
  FILE_POLICIES,
  getFilePolicy,
  IMAGE_TYPES,
  normalizeMimeType,
} from './policies'
export type { CreateUploadInput } from './schemas'
export {
  createUploadInputSchema,
  fileKindSchema,
  fileNameSchema,
  signInInputSchema,
  uploadIdSchema,
} from './schemas'
export { formatBytes, GiB, KiB, MiB } from './sizes'
export { bytesMatchType, SNIFF_BYTES, sniffImageType } from './sniff'
export type { TransferPlan } from './transfer'
export {
  CREATE_SIGNED_PARTS,
  MAX_PREFERRED_PART_SIZE,
  MIN_PART_SIZE,
  MULTIPART_THRESHOLD,
  partContentLength,
  planTransfer,
  S3_MAX_PARTS,
  S3_MIN_PART_SIZE,
} from './transfer'
