import { compareKeys, type ObjectMeta } from './store'

export interface ListOptions {
  prefix: string
  delimiter: string | undefined
  /** Only keys strictly after this one (start-after, marker or the continuation point). */
  after: string
  /** Keys under this common prefix were already returned as one CommonPrefixes entry. */
  skipPrefix: string | undefined
  maxKeys: number
}

export interface ListPage {
  contents: ObjectMeta[]
  commonPrefixes: string[]
  isTruncated: boolean
  /** Where the next page starts; set when truncated. */
  next: { after: string; skipPrefix: string | undefined } | undefined
}

/** First index whose key sorts after `bound` (or at it, when inclusive); keys are in UTF-8 byte order. */
function searchKeys(keys: string[], bound: string, inclusive: boolean): number {
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const c = compareKeys(keys[mid] as string, bound)
    if (inclusive ? c < 0 : c <= 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * One page of a ListObjects listing. A common prefix counts as one entry against max-keys, as in S3,
 * and all keys under it are rolled into it.
 */
export function listObjects(
  keys: string[],
  objects: Map<string, ObjectMeta>,
  options: ListOptions,
): ListPage {
  const { prefix, delimiter, skipPrefix, maxKeys } = options
  const after = compareKeys(options.after, prefix) > 0 ? options.after : undefined
  // Keys with the prefix are contiguous and sort at or after the prefix itself.
  let i = after === undefined ? searchKeys(keys, prefix, true) : searchKeys(keys, after, false)
  const contents: ObjectMeta[] = []
  const commonPrefixes: string[] = []
  let count = 0
  let lastPrefix: string | undefined
  let next: ListPage['next']
  for (; i < keys.length; i++) {
    const key = keys[i] as string
    if (!key.startsWith(prefix)) {
      if (compareKeys(key, prefix) > 0) break
      continue
    }
    if (skipPrefix !== undefined && key.startsWith(skipPrefix)) continue
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1
    if (delimiter && cut !== -1) {
      const common = key.slice(0, cut + delimiter.length)
      if (common === lastPrefix) continue
      if (count === maxKeys) return { contents, commonPrefixes, isTruncated: true, next }
      commonPrefixes.push(common)
      lastPrefix = common
      next = { after: key, skipPrefix: common }
    } else {
      if (count === maxKeys) return { contents, commonPrefixes, isTruncated: true, next }
      const meta = objects.get(key)
      if (!meta) continue
      contents.push(meta)
      next = { after: key, skipPrefix: undefined }
    }
    count++
  }
  return { contents, commonPrefixes, isTruncated: false, next: undefined }
}
