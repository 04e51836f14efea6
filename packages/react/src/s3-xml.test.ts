import { describe, expect, it } from 'vitest'
import { buildCompleteMultipartXml, decodeXmlText, parseListParts, parseS3Error } from './s3-xml'

describe('S3 XML', () => {
  it('reads ListParts with quoted ETags, sorted by part number, skipping incomplete entries', () => {
    const xml = `<ListPartsResult><Bucket>upkit</Bucket><PartNumberMarker>0</PartNumberMarker><IsTruncated>false</IsTruncated>
<Part><PartNumber>2</PartNumber><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>&quot;bbb&quot;</ETag><Size>100</Size></Part>
<Part><PartNumber>1</PartNumber><ETag>"aaa"</ETag><Size>8388608</Size></Part>
<Part><PartNumber>3</PartNumber><Size>5</Size></Part></ListPartsResult>`
    expect(parseListParts(xml)).toEqual([
      { partNumber: 1, etag: '"aaa"', size: 8388608 },
      { partNumber: 2, etag: '"bbb"', size: 100 },
    ])
    expect(parseListParts('<ListPartsResult></ListPartsResult>')).toEqual([])
  })

  it('writes CompleteMultipartUpload in part order with escaped ETags', () => {
    expect(
      buildCompleteMultipartXml([
        { partNumber: 2, etag: '"b"' },
        { partNumber: 1, etag: '"a"' },
      ]),
    ).toBe(
      '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;a&quot;</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&quot;b&quot;</ETag></Part></CompleteMultipartUpload>',
    )
  })

  it('reads S3 errors, and nothing from other bodies', () => {
    expect(
      parseS3Error(
        '<Error><Code>AccessDenied</Code><Message>Request has expired</Message><RequestId>1</RequestId></Error>',
      ),
    ).toEqual({ code: 'AccessDenied', message: 'Request has expired' })
    expect(parseS3Error('<Error><Code>X</Code><Message>a &amp;amp; b</Message></Error>')?.message).toBe(
      'a &amp; b',
    )
    expect(parseS3Error('')).toBeNull()
    expect(parseS3Error('<CompleteMultipartUploadResult/>')).toBeNull()
  })

  it('decodes numeric entities', () => {
    expect(decodeXmlText('&#34;x&#x22;')).toBe('"x"')
  })
})
