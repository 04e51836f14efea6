/** An S3 error response: S3's code, HTTP status and message, rendered as `<Error>` XML. */
export class S3Error extends Error {
  readonly code: string
  readonly status: number
  /** Extra elements S3 adds to some errors (e.g. `Key`, `UploadId`, `HeadersNotSigned`). */
  readonly extra: Record<string, string>
  /** Headers to add to the error response (e.g. `Content-Range` on 416). */
  readonly headers: Record<string, string>

  constructor(
    code: string,
    status: number,
    message: string,
    extra: Record<string, string> = {},
    headers: Record<string, string> = {},
  ) {
    super(message)
    this.code = code
    this.status = status
    this.extra = extra
    this.headers = headers
  }
}

export const accessDenied = (message = 'Access Denied') => new S3Error('AccessDenied', 403, message)

export const noSuchBucket = (bucket: string) =>
  new S3Error('NoSuchBucket', 404, 'The specified bucket does not exist', { BucketName: bucket })

export const noSuchKey = (key: string) =>
  new S3Error('NoSuchKey', 404, 'The specified key does not exist.', { Key: key })

export const noSuchUpload = (uploadId: string) =>
  new S3Error(
    'NoSuchUpload',
    404,
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { UploadId: uploadId },
  )

export const notImplemented = (
  message = 'A header or query you provided implies functionality that is not implemented.',
) => new S3Error('NotImplemented', 501, message)

export const preconditionFailed = (condition: string) =>
  new S3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold', {
    Condition: condition,
  })

export const malformedXml = () =>
  new S3Error(
    'MalformedXML',
    400,
    'The XML you provided was not well-formed or did not validate against our published schema',
  )

export const invalidArgument = (message: string, name?: string, value?: string) =>
  new S3Error(
    'InvalidArgument',
    400,
    message,
    name === undefined ? {} : { ArgumentName: name, ArgumentValue: value ?? '' },
  )
