import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { storageConfigFromEnv } from './config'

const local = {
  S3_ENDPOINT: 'http://127.0.0.1:9000',
  S3_BUCKET: 'uploads',
  S3_ACCESS_KEY_ID: 'local-key',
  S3_SECRET_ACCESS_KEY: 'local-secret-value',
}

function errorsOf(env: Record<string, string | undefined>): string[] {
  const result = storageConfigFromEnv(env)
  if (result.ok) throw new Error(`expected errors, got config for ${result.config.bucket}`)
  return result.errors
}

function configOf(env: Record<string, string | undefined>) {
  const result = storageConfigFromEnv(env)
  if (!result.ok) throw new Error(result.errors.join('\n'))
  return result.config
}

describe('storageConfigFromEnv', () => {
  it('reads a local/MinIO-style endpoint with path style and us-east-1 by default', () => {
    const config = configOf(local)
    expect(config).toMatchObject({
      bucket: 'uploads',
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      forcePathStyle: true,
    })
    expect(config.provider).toBeUndefined()
    expect(config.credentials?.secretAccessKey).toBe('local-secret-value')
  })

  it('treats a missing endpoint as AWS, which needs a region and allows the credential chain', () => {
    expect(errorsOf({ S3_BUCKET: 'uploads' })).toEqual([
      "S3_REGION is required for AWS S3 (e.g. 'eu-west-1')",
    ])
    const config = configOf({ S3_BUCKET: 'uploads', S3_REGION: 'eu-west-1' })
    expect(config).toMatchObject({ provider: 'aws', region: 'eu-west-1', forcePathStyle: false })
    expect(config.credentials).toBeUndefined()
  })

  it('detects R2 from the endpoint and defaults its region to auto', () => {
    const config = configOf({ ...local, S3_ENDPOINT: 'https://abc123.r2.cloudflarestorage.com' })
    expect(config).toMatchObject({ provider: 'r2', region: 'auto', forcePathStyle: true })
  })

  it('rejects an R2 region other than auto and dotted R2 bucket names', () => {
    expect(errorsOf({ ...local, S3_PROVIDER: 'r2', S3_REGION: 'eu-west-1', S3_BUCKET: 'my.bucket' })).toEqual(
      [
        "S3_REGION must be 'auto' for Cloudflare R2, got 'eu-west-1'",
        "S3_BUCKET may contain only lowercase letters, digits and hyphens on R2, got 'my.bucket'",
      ],
    )
  })

  it('explains the R2 dashboard mistake of putting the bucket in the endpoint', () => {
    expect(errorsOf({ ...local, S3_ENDPOINT: 'https://abc.r2.cloudflarestorage.com/uploads' })).toEqual([
      "S3_ENDPOINT must not include a path, got '/uploads' (put the bucket name in S3_BUCKET, not in the URL)",
    ])
  })

  it('parses S3_FORCE_PATH_STYLE strictly', () => {
    expect(errorsOf({ ...local, S3_FORCE_PATH_STYLE: 'yes' })).toEqual([
      "S3_FORCE_PATH_STYLE must be true or false, got 'yes'",
    ])
    expect(configOf({ ...local, S3_FORCE_PATH_STYLE: 'false' }).forcePathStyle).toBe(false)
    expect(configOf({ ...local, S3_FORCE_PATH_STYLE: 'TRUE' }).forcePathStyle).toBe(true)
  })

  it('requires an http(s) endpoint', () => {
    expect(errorsOf({ ...local, S3_ENDPOINT: 'localhost:9000' })).toEqual([
      "S3_ENDPOINT must be an http(s) URL, got 'localhost:9000'",
    ])
    expect(errorsOf({ ...local, S3_ENDPOINT: 'not a url' })).toEqual([
      "S3_ENDPOINT must be an http(s) URL such as 'http://localhost:9000', got 'not a url'",
    ])
    expect(errorsOf({ ...local, S3_ENDPOINT: 'ftp://example.com' })).toEqual([
      "S3_ENDPOINT must be an http(s) URL, got 'ftp://example.com'",
    ])
  })

  it('never echoes credentials, even when they are pasted into the endpoint', () => {
    const errors = errorsOf({ ...local, S3_ENDPOINT: 'https://key:hunter2@example.com' })
    expect(errors).toEqual([
      'S3_ENDPOINT must not contain credentials; use S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY',
    ])
    expect(errors.join()).not.toContain('hunter2')
  })

  it('requires a provider endpoint and both keys outside AWS', () => {
    expect(errorsOf({ S3_PROVIDER: 'minio', S3_BUCKET: 'uploads', S3_ACCESS_KEY_ID: 'k' })).toEqual([
      'S3_ENDPOINT is required when S3_PROVIDER is minio',
      'S3_SECRET_ACCESS_KEY is required when S3_ACCESS_KEY_ID is set',
    ])
    expect(errorsOf({ S3_ENDPOINT: 'http://localhost:9000', S3_BUCKET: 'uploads' })).toEqual([
      'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are required outside AWS',
    ])
    const secretOnly = errorsOf({ ...local, S3_ACCESS_KEY_ID: '' })
    expect(secretOnly).toEqual(['S3_ACCESS_KEY_ID is required when S3_SECRET_ACCESS_KEY is set'])
    expect(secretOnly.join()).not.toContain('local-secret-value')
  })

  it('rejects an unknown provider', () => {
    expect(errorsOf({ ...local, S3_PROVIDER: 'gcs' })).toEqual([
      "S3_PROVIDER must be one of aws, r2, minio, local, got 'gcs'",
    ])
  })

  it.each([
    ['', 'S3_BUCKET is required'],
    ['ab', "S3_BUCKET must be 3 to 63 characters long, got 2 ('ab')"],
    ['My_Bucket', "S3_BUCKET may contain only lowercase letters, digits, dots and hyphens, got 'My_Bucket'"],
    ['-uploads', "S3_BUCKET must start and end with a letter or digit, got '-uploads'"],
    ['up..loads', "S3_BUCKET must not contain two dots in a row, got 'up..loads'"],
    ['192.168.0.1', "S3_BUCKET must not look like an IP address, got '192.168.0.1'"],
  ])('applies bucket naming rules to %j', (bucket, message) => {
    expect(errorsOf({ ...local, S3_BUCKET: bucket })).toEqual([message])
  })

  it('reports every problem at once', () => {
    expect(errorsOf({ S3_ENDPOINT: 'nope', S3_FORCE_PATH_STYLE: '1', S3_REGION: 'US East' })).toHaveLength(5)
  })

  it('keeps the secret out of logs and JSON', () => {
    const config = configOf(local)
    expect(inspect(config, { depth: 5 })).not.toContain('local-secret-value')
    expect(JSON.stringify(config)).not.toContain('local-secret-value')
    expect(JSON.stringify(config)).toContain('[redacted]')
  })
})
