import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { malformedXml, notImplemented, S3Error } from './errors'
import { childrenNamed, childText, el, parseXml, xmlDocument } from './xml'

/**
 * One bucket lifecycle rule, as far as this server understands S3's LifecycleConfiguration: the prefix it applies
 * to and the two actions upkit cares about. Rules are stored and answered back, never applied: a dev server has no
 * background expiry, and tests only need to see that a bucket has (or lacks) the rule.
 */
export interface LifecycleRule {
  /** Default none. */
  id?: string
  /** Keys the rule applies to; '' (the default) means every key. */
  prefix?: string
  /** Default 'Enabled'. */
  status?: 'Enabled' | 'Disabled'
  /** Days after which an unfinished multipart upload is aborted (`AbortIncompleteMultipartUpload`). */
  abortIncompleteMultipartUploadDays?: number
  /** Days after which objects expire (`Expiration`). */
  expirationDays?: number
}

const MAX_RULES = 1000
const DAYS = /^[1-9]\d{0,5}$/

export function validateLifecycleRules(rules: LifecycleRule[]): LifecycleRule[] {
  if (rules.length === 0 || rules.length > MAX_RULES) throw malformedXml()
  for (const rule of rules) {
    if (rule.abortIncompleteMultipartUploadDays === undefined && rule.expirationDays === undefined) {
      throw new S3Error('InvalidRequest', 400, 'At least one action needs to be specified in a rule')
    }
    for (const days of [rule.abortIncompleteMultipartUploadDays, rule.expirationDays]) {
      if (days !== undefined && !(Number.isInteger(days) && days > 0)) {
        throw new S3Error('InvalidArgument', 400, "'Days' for an action must be a positive integer")
      }
    }
  }
  return rules
}

export function parseLifecycleXml(body: string): LifecycleRule[] {
  const root = parseXml(body)
  if (root.name !== 'LifecycleConfiguration') throw malformedXml()
  return validateLifecycleRules(
    childrenNamed(root, 'Rule').map((element) => {
      // Anything this server would store but not understand would read back as a different configuration.
      const known = new Set([
        'ID',
        'Filter',
        'Prefix',
        'Status',
        'AbortIncompleteMultipartUpload',
        'Expiration',
      ])
      const unknown = element.children.find((child) => !known.has(child.name))
      if (unknown) throw notImplemented(`Lifecycle ${unknown.name} is not implemented by this server.`)
      const status = childText(element, 'Status')?.trim()
      if (status !== 'Enabled' && status !== 'Disabled') throw malformedXml()
      const filter = childrenNamed(element, 'Filter')[0]
      if (filter?.children.some((child) => child.name !== 'Prefix')) {
        throw notImplemented('Lifecycle filters other than Prefix are not implemented by this server.')
      }
      const prefix = filter ? childText(filter, 'Prefix') : childText(element, 'Prefix')
      const rule: LifecycleRule = { status, prefix: prefix ?? '' }
      const id = childText(element, 'ID')?.trim()
      if (id) rule.id = id
      const abort = childrenNamed(element, 'AbortIncompleteMultipartUpload')[0]
      if (abort) rule.abortIncompleteMultipartUploadDays = days(childText(abort, 'DaysAfterInitiation'))
      const expiration = childrenNamed(element, 'Expiration')[0]
      if (expiration) rule.expirationDays = days(childText(expiration, 'Days'))
      return rule
    }),
  )
}

function days(raw: string | undefined): number {
  const text = raw?.trim() ?? ''
  if (!DAYS.test(text)) throw malformedXml()
  return Number(text)
}

export function lifecycleXml(rules: LifecycleRule[]): string {
  const body = rules
    .map(
      (rule) =>
        `<Rule>${el('ID', rule.id)}<Filter>${el('Prefix', rule.prefix ?? '')}</Filter>${el('Status', rule.status ?? 'Enabled')}${
          rule.expirationDays === undefined
            ? ''
            : `<Expiration>${el('Days', rule.expirationDays)}</Expiration>`
        }${
          rule.abortIncompleteMultipartUploadDays === undefined
            ? ''
            : `<AbortIncompleteMultipartUpload>${el('DaysAfterInitiation', rule.abortIncompleteMultipartUploadDays)}</AbortIncompleteMultipartUpload>`
        }</Rule>`,
    )
    .join('')
  return xmlDocument('LifecycleConfiguration', body)
}

export const noSuchLifecycleConfiguration = (bucket: string) =>
  new S3Error('NoSuchLifecycleConfiguration', 404, 'The lifecycle configuration does not exist', {
    BucketName: bucket,
  })

/**
 * Lifecycle rules per bucket, kept in `<dir>/lifecycle/<bucket>.json` beside the store's own folders (the store's
 * bucket.json belongs to it), so they survive restarts as CORS rules do.
 */
export class LifecycleStore {
  private readonly rules = new Map<string, LifecycleRule[]>()
  private readonly folder: string

  constructor(dir: string) {
    this.folder = join(dir, 'lifecycle')
  }

  async load(bucketNames: Iterable<string>): Promise<void> {
    await mkdir(this.folder, { recursive: true })
    for (const bucket of bucketNames) {
      try {
        this.rules.set(bucket, JSON.parse(await readFile(this.file(bucket), 'utf8')) as LifecycleRule[])
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      }
    }
  }

  get(bucket: string): LifecycleRule[] | undefined {
    return this.rules.get(bucket)
  }

  async set(bucket: string, rules: LifecycleRule[] | undefined): Promise<void> {
    if (rules === undefined) {
      await rm(this.file(bucket), { force: true })
      this.rules.delete(bucket)
      return
    }
    // Written aside then renamed: a crash mid-write leaves the old rules, never half a file.
    const tmp = `${this.file(bucket)}.tmp`
    await writeFile(tmp, JSON.stringify(rules))
    await rename(tmp, this.file(bucket))
    this.rules.set(bucket, rules)
  }

  private file(bucket: string): string {
    return join(this.folder, `${bucket}.json`)
  }
}
