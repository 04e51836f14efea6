export type {
  ConfirmManyResult,
  CreatedUpload,
  CreateManyResult,
  PublicRoutePolicy,
  RouteCall,
  RouteCallOf,
  SignedPart,
  SignedRequest,
  SignRequestInput,
  StoredInlineImage,
  UploadApi,
  UploadFailure,
  UploadRecord,
  UploadUsage,
  UsageAmount,
} from './api-types'
export { MAX_BATCH_FILES } from './api-types'
export type { UpkitErrorCode, UpkitTransportCode } from './errors'
export { isUpkitError, isUpkitErrorCode, UPKIT_ERROR_CODES, UpkitError, upkitCodeOf } from './errors'
export { cleanFileName } from './file-name'
export type { ImageInfo } from './image-info'
export { readImageInfo } from './image-info'
export type { ObjectKeyParts } from './keys'
export {
  assertKeyPrefix,
  buildObjectKey,
  DEFAULT_KEY_PREFIX,
  isKeySegment,
  isUuid,
  tenantKeyPrefix,
} from './keys'
export type { InlineImagePolicy, ResolvedInlineImagePolicy } from './logo'
export {
  assertInlineImageAllowed,
  base64LengthOf,
  imageTypeNames,
  resolveInlineImagePolicy,
} from './logo'
export type { UpkitPaths } from './paths'
export { DEFAULT_UPKIT_PATHS, fileUrl, inlineImageUrl, resolvePaths } from './paths'
export type { FileDescription, ResolvedPolicy, UploadPolicy } from './policies'
export {
  assertFileAllowed,
  checkFileAllowed,
  DEFAULT_MAX_FILES,
  IMAGE_TYPES,
  normalizeMimeType,
  resolvePolicy,
  typeAllowed,
} from './policies'
export { fileDescriptionSchema, fileNameSchema, uploadIdSchema } from './schemas'
export type { SizeInput } from './sizes'
export { formatBytes, GiB, KiB, MiB, parseSize, TiB } from './sizes'
export { bytesMatchType, SNIFF_BYTES, sniffImageType } from './sniff'
export { THUMBNAIL_LIMITS } from './thumbnails'
export type { TransferPlan } from './transfer'
export {
  CREATE_SIGNED_PARTS,
  MAX_PREFERRED_PART_SIZE,
  MIN_PART_SIZE,
  MULTIPART_THRESHOLD,
  partContentLength,
  partRange,
  planTransfer,
  S3_MAX_PARTS,
  S3_MIN_PART_SIZE,
} from './transfer'
