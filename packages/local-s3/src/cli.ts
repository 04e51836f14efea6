import { parseArgs } from 'node:util'
import type { CorsRule } from './cors'
import { type LocalS3Options, startLocalS3 } from './server'
import { type LocalS3Quirks, QUIRK_NAMES, STRICT_QUIRKS } from './strict'

const USAGE = `Usage: upkit-local-s3 [options]

  --dir DIR                  data folder (env LOCAL_S3_DIR, default .data/local-s3)
  --port N                   port (env LOCAL_S3_PORT, default 0 = a free port)
  --host HOST                interface (env LOCAL_S3_HOST, default 127.0.0.1)
  --access-key-id ID         (env LOCAL_S3_ACCESS_KEY_ID, required)
  --secret-access-key KEY    (env LOCAL_S3_SECRET_ACCESS_KEY, required)
  --region REGION            (env LOCAL_S3_REGION, default us-east-1)
  --bucket NAME              bucket to create, repeatable (env LOCAL_S3_BUCKETS, comma-separated)
  --cors-origin ORIGIN       browser origin allowed on those buckets, repeatable (env LOCAL_S3_CORS_ORIGINS)
  --conditional-writes MODE  enforce (default, like AWS S3/R2/MinIO: If-None-Match: * gets 412 on an existing key)
                             or ignore (overwrite, like a provider without conditional writes)
                             (env LOCAL_S3_CONDITIONAL_WRITES)
  --strict                   behave like the strictest S3-compatible providers (env LOCAL_S3_STRICT=true):
                             DeleteObjects/PutBucketCors need Content-MD5, no DeleteObjects and no bucket CORS
                             API (501), path style only, user metadata at most 2 KiB. Default off: answers as
                             AWS S3 does.
  --strict-quirks LIST       only some of them, comma-separated (env LOCAL_S3_STRICT=LIST):
                             ${QUIRK_NAMES.join(', ')}

Prints the endpoint on stdout once listening.`

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '')

/** Turns argv + env into server options; flags win over env. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv): LocalS3Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      dir: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'access-key-id': { type: 'string' },
      'secret-access-key': { type: 'string' },
      region: { type: 'string' },
      bucket: { type: 'string', multiple: true },
      'cors-origin': { type: 'string', multiple: true },
      'conditional-writes': { type: 'string' },
      strict: { type: 'boolean' },
      'strict-quirks': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) return 'help'
  const accessKeyId = values['access-key-id'] ?? env.LOCAL_S3_ACCESS_KEY_ID
  const secretAccessKey = values['secret-access-key'] ?? env.LOCAL_S3_SECRET_ACCESS_KEY
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(
      '--access-key-id and --secret-access-key (or LOCAL_S3_ACCESS_KEY_ID / LOCAL_S3_SECRET_ACCESS_KEY) are required',
    )
  }
  const portText = values.port ?? env.LOCAL_S3_PORT ?? '0'
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) throw new Error(`invalid --port: ${portText}`)
  const origins = values['cors-origin'] ?? list(env.LOCAL_S3_CORS_ORIGINS)
  // Everything a browser uploader needs: signed PUTs, multipart POSTs, and reading the part ETags.
  const cors: CorsRule[] | undefined =
    origins.length > 0
      ? [
          {
            allowedOrigins: origins,
            allowedMethods: ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'],
            allowedHeaders: ['*'],
            exposeHeaders: ['ETag'],
            maxAgeSeconds: 3000,
          },
        ]
      : undefined
  const options: LocalS3Options = {
    dir: values.dir ?? env.LOCAL_S3_DIR ?? '.data/local-s3',
    port: Number(portText),
    accessKeyId,
    secretAccessKey,
    buckets: (values.bucket ?? list(env.LOCAL_S3_BUCKETS)).map((name) => (cors ? { name, cors } : { name })),
  }
  const conditionalWrites = values['conditional-writes'] ?? env.LOCAL_S3_CONDITIONAL_WRITES
  if (conditionalWrites !== undefined && conditionalWrites !== '') {
    if (conditionalWrites !== 'enforce' && conditionalWrites !== 'ignore')
      throw new Error(`invalid --conditional-writes: ${conditionalWrites} (enforce or ignore)`)
    options.conditionalWrites = conditionalWrites
  }
  const strict = strictOf(values.strict === true ? 'true' : (values['strict-quirks'] ?? env.LOCAL_S3_STRICT))
  if (strict !== undefined) options.strict = strict
  const host = values.host ?? env.LOCAL_S3_HOST
  if (host) options.host = host
  const region = values.region ?? env.LOCAL_S3_REGION
  if (region) options.region = region
  return options
}

/** `true`/`1`/`all`: every quirk; a comma-separated list of quirk names: those; empty/`false`/`0`: none. */
function strictOf(value: string | undefined): true | LocalS3Quirks | undefined {
  const text = value?.trim().toLowerCase() ?? ''
  if (text === '' || text === 'false' || text === '0') return undefined
  if (text === 'true' || text === '1' || text === 'all') return true
  const quirks: LocalS3Quirks = {}
  for (const name of list(value)) {
    const quirk = QUIRK_NAMES.find((q) => q.toLowerCase() === name.toLowerCase())
    if (quirk === undefined) {
      throw new Error(`invalid strict quirk: ${name} (one of ${QUIRK_NAMES.join(', ')}, or true for all)`)
    }
    Object.assign(quirks, { [quirk]: STRICT_QUIRKS[quirk] })
  }
  return quirks
}

export async function main(argv = process.argv.slice(2), env = process.env): Promise<void> {
  let options: ReturnType<typeof parseCli>
  try {
    options = parseCli(argv, env)
  } catch (error) {
    console.error(`upkit-local-s3: ${(error as Error).message}\n\n${USAGE}`)
    process.exitCode = 2
    return
  }
  if (options === 'help') {
    console.log(USAGE)
    return
  }
  const server = await startLocalS3(options)
  console.log(server.endpoint)
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
