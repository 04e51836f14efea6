import { browserUploadCors } from '../bucket-helpers'
import type { BucketStorage } from '../bucket-storage'
import { type Check, expectOk, expectThat, failureOf, send } from './check'

/** One more than a ListObjectsV2 page and a DeleteObjects batch, so both have to continue. */
const PAST_ONE_PAGE = 1001

async function keysUnder(storage: BucketStorage, prefix: string): Promise<string[]> {
  const keys: string[] = []
  for await (const object of storage.list({ prefix })) keys.push(object.key)
  return keys
}

async function putTiny(storage: BucketStorage, keys: readonly string[]): Promise<void> {
  const body = new Uint8Array([1])
  // 16 at a time: quick on a local server, gentle on a remote bucket's request rate.
  for (let i = 0; i < keys.length; i += 16) {
    await Promise.all(
      keys
        .slice(i, i + 16)
        .map((key) => storage.putObject({ key, body, contentType: 'text/plain', contentLength: 1 })),
    )
  }
}

const listing: Check = {
  id: 'listing',
  title: `Listing by prefix across pages (${PAST_ONE_PAGE} objects), then deleting them in 2 batches`,
  meaning:
    'The sweeper and `upkit migrate` walk the bucket by prefix; a provider that drops the continuation token lists only the first 1000 objects, so orphans past them are never removed.',
  fix: 'Report the provider bug; there is no workaround for a listing that stops.',
  async run({ storage, prefix }) {
    const keys = Array.from({ length: PAST_ONE_PAGE }, (_, i) => `${prefix}in/${String(i).padStart(5, '0')}`)
    await putTiny(storage, [...keys, `${prefix}out`, `${prefix}in-not/x`])
    const listed = await keysUnder(storage, `${prefix}in/`)
    expectThat(
      listed.length === keys.length,
      `listed ${listed.length} objects under the prefix, expected ${keys.length}`,
    )
    expectThat(
      listed.every((key, i) => key === keys[i]),
      'the listing is not in key order or has other keys',
    )
    await storage.deleteObjects(keys)
    const left = await keysUnder(storage, `${prefix}in/`)
    expectThat(left.length === 0, `${left.length} objects left after deleteObjects of ${keys.length}`)
  },
}

const batchDelete: Check = {
  id: 'batch-delete',
  title: 'Batch delete (DeleteObjects with Content-MD5), a missing key included',
  meaning:
    'The sweeper and migrate cleanup delete in batches; where DeleteObjects fails, abandoned uploads and orphans stay in the bucket.',
  fix: 'upkit sends Content-MD5 on DeleteObjects (older Ceph RGW and Swift s3api refuse it otherwise) and deletes key by key where DeleteObjects is NotImplemented (GCS interop). A failure here is a refused DELETE: check the credentials may delete.',
  async run({ storage, prefix }) {
    const keys = ['a', 'b', 'c'].map((name) => `${prefix}${name}`)
    await putTiny(storage, keys)
    await storage.deleteObjects([...keys, `${prefix}never-existed`])
    for (const key of keys) expectThat((await storage.head(key)) === null, `${key} is still there`)
    // deleteObject on a missing key succeeds too, as the sweeper expects after a concurrent delete.
    await storage.deleteObject(`${prefix}a`)
  },
}

const corsApi: Check = {
  id: 'cors-api',
  title: 'Bucket CORS API (ensureBucket({ cors }))',
  meaning:
    'Browsers PUT straight to the bucket, so it must allow the app origin. Without the API, ensureBucket cannot set it: it resolves { cors: "unsupported", message } instead of failing the app start.',
  fix: "Set CORS in the provider's console or native API: the app origin, GET/PUT/POST/DELETE/HEAD, any header, ETag exposed.",
  async run({ storage, corsOrigin, manageCors }) {
    if (!manageCors || corsOrigin === undefined) {
      return {
        status: 'skip',
        note: "would replace the bucket's CORS rules; set UPKIT_CONFORMANCE_SET_CORS=1 and UPKIT_CONFORMANCE_ORIGIN to try it",
      }
    }
    const result = await storage.ensureBucket({ cors: browserUploadCors([corsOrigin]) })
    if (result.cors === 'unsupported') return { status: 'warn', note: result.message }
    expectThat(result.cors === 'applied', `ensureBucket answered ${JSON.stringify(result)}`)
  },
}

const corsHeaders: Check = {
  id: 'cors-headers',
  title: 'CORS for the app origin: PUT preflight answered, ETag exposed',
  meaning:
    'Without an answered preflight the browser never sends the PUT; without ETag exposed it cannot complete a multipart upload.',
  fix: 'Allow the app origin with PUT, POST, GET, DELETE, HEAD and any header, and expose ETag (browserUploadCors builds that rule).',
  async run({ storage, prefix, corsOrigin }) {
    if (corsOrigin === undefined) {
      return { status: 'skip', note: 'set UPKIT_CONFORMANCE_ORIGIN to an origin your bucket allows' }
    }
    const put = await storage.presignPut({
      key: `${prefix}cors.txt`,
      contentType: 'text/plain',
      contentLength: 2,
      expiresInSeconds: 300,
    })
    const preflight = await fetch(put.url, {
      method: 'OPTIONS',
      headers: {
        Origin: corsOrigin,
        'Access-Control-Request-Method': 'PUT',
        'Access-Control-Request-Headers': Object.keys(put.headers).join(','),
      },
    })
    const allowed = preflight.headers.get('access-control-allow-origin')
    expectThat(
      preflight.ok && (allowed === corsOrigin || allowed === '*'),
      `preflight for ${corsOrigin}: ${preflight.ok ? `Access-Control-Allow-Origin ${allowed}` : await failureOf(preflight)}`,
    )
    const response = await send(put, 'ok', { Origin: corsOrigin })
    await expectOk(response, `PUT with Origin`)
    const exposed = (response.headers.get('access-control-expose-headers') ?? '')
      .toLowerCase()
      .split(/\s*,\s*/)
    expectThat(
      exposed.includes('etag'),
      `ETag not exposed (Access-Control-Expose-Headers: ${exposed.join(', ')})`,
    )
  },
}

export const bucketChecks: readonly Check[] = [listing, batchDelete, corsApi, corsHeaders]
