import { bytesOf, type Check, CheckFailure, expectOk, expectThat, sameBytes, send } from './check'

const presignedPut: Check = {
  id: 'presigned-put',
  title: 'Presigned PUT with signed Content-Length and Content-Type',
  meaning:
    'upkit caps upload sizes and types by signing them into the URL; a bucket that accepts another size or type lets a browser store a file larger or of another type than its upload was created for.',
  fix: 'Use a provider that verifies signed headers (every SigV4 S3 API should); there is no workaround in upkit.',
  async run({ storage, prefix }) {
    const key = `${prefix}file.bin`
    const body = bytesOf(64)
    const put = await storage.presignPut({
      key,
      contentType: 'image/png',
      contentLength: body.length,
      expiresInSeconds: 300,
    })
    const longer = await send(put, bytesOf(65))
    expectThat(!longer.ok, 'a body 1 byte longer than the signed Content-Length was accepted')
    await longer.body?.cancel()
    const otherType = await send(put, body, { 'content-type': 'text/html' })
    expectThat(!otherType.ok, 'a Content-Type other than the signed one was accepted')
    await otherType.body?.cancel()
    const ok = await send(put, body)
    await expectOk(ok, `the signed PUT was refused`)
    const head = await storage.head(key)
    expectThat(head?.size === 64, `HEAD after the PUT: size ${head?.size}, expected 64`)
    expectThat(head.contentType === 'image/png', `HEAD: Content-Type ${head.contentType}, expected image/png`)
    const got = await fetch(await storage.presignGet({ key, expiresInSeconds: 300 }))
    expectThat(sameBytes(new Uint8Array(await got.arrayBuffer()), body), 'presigned GET returned other bytes')
  },
}

const conditionalWrite: Check = {
  id: 'conditional-write',
  title: 'Conditional write: If-None-Match: * refused on an existing key',
  meaning:
    "upkit's presigned PUT and Complete carry a signed If-None-Match: *, so a replayed URL cannot replace an object once it is there. Without it a leaked URL can overwrite the file until it expires.",
  fix: 'Keep presign expiries short (the default is minutes). Keys are random per upload, so only the holder of the URL can overwrite, and confirm checks the ETag again.',
  async run({ storage, prefix }) {
    const key = `${prefix}once.txt`
    const put = await storage.presignPut({
      key,
      contentType: 'text/plain',
      contentLength: 5,
      expiresInSeconds: 300,
    })
    const first = await send(put, 'first')
    await expectOk(first, `the first PUT was refused`)
    const second = await send(put, 'again')
    await second.body?.cancel()
    expectThat(second.status === 412, `a second PUT to the same key answered ${second.status}, expected 412`)
    const got = await fetch(await storage.presignGet({ key, expiresInSeconds: 300 }))
    expectThat((await got.text()) === 'first', 'the object was replaced by the second PUT')
  },
}

const rangeReads: Check = {
  id: 'range-reads',
  title: 'Range reads (readStart, readRange), empty and missing objects',
  meaning:
    'confirm reads the first bytes and the size of an upload in one ranged GET to check its type; without ranges it downloads whole files.',
  fix: 'Every S3 API supports Range; a proxy in front of the bucket may strip it.',
  async run({ storage, prefix }) {
    const data = bytesOf(100)
    await storage.putObject({ key: `${prefix}data`, body: data, contentType: 'x/y', contentLength: 100 })
    await storage.putObject({
      key: `${prefix}empty`,
      body: new Uint8Array(),
      contentType: 'x/y',
      contentLength: 0,
    })
    const start = await storage.readStart(`${prefix}data`, 10)
    expectThat(start !== null, 'readStart found no object')
    expectThat(
      start.head.size === 100,
      `readStart: size ${start.head.size}, expected 100 (from Content-Range)`,
    )
    expectThat(sameBytes(start.bytes, data.subarray(0, 10)), 'readStart returned other bytes')
    expectThat(start.head.etag !== undefined, 'readStart: no ETag')
    const tail = await storage.readRange(`${prefix}data`, 90, 200)
    expectThat(
      sameBytes(tail, data.subarray(90)),
      `readRange past the end returned ${tail.length} bytes, expected 10`,
    )
    const empty = await storage.readStart(`${prefix}empty`, 10)
    expectThat(empty?.head.size === 0 && empty.bytes.length === 0, 'readStart on an empty object')
    expectThat(
      (await storage.readStart(`${prefix}missing`, 10)) === null,
      'readStart on a missing key is not null',
    )
  },
}

/** Keys upkit never generates itself but a provider must still round-trip (legacy names, `upkit migrate`). */
const ODD_KEYS = [
  'with space.txt',
  'ünïcödé – ✓.txt',
  'plus+sign.txt',
  "paren(1)*!'.txt",
  'percent%20.txt',
  'a&b=c;d.txt',
]

const oddKeys: Check = {
  id: 'odd-keys',
  title: 'Keys with spaces, unicode, +, %, &, = and parentheses',
  meaning:
    'A provider that decodes `+` as a space or normalises unicode stores the object under another key: uploads then fail to confirm, or list under names nobody wrote.',
  fix: 'upkit generates plain ASCII keys for uploads; only migrated legacy names carry such characters. Report the provider bug; rename keys on migration if needed.',
  async run({ storage, prefix }) {
    for (const name of ODD_KEYS) {
      const key = `${prefix}${name}`
      const put = await storage.presignPut({
        key,
        contentType: 'text/plain',
        contentLength: Buffer.byteLength(name),
        expiresInSeconds: 300,
      })
      const response = await send(put, name)
      await expectOk(response, `presigned PUT of '${name}'`)
      const got = await fetch(await storage.presignGet({ key, expiresInSeconds: 300 }))
      expectThat(got.ok && (await got.text()) === name, `presigned GET of '${name}' failed (${got.status})`)
      expectThat((await storage.head(key)) !== null, `HEAD of '${name}' found nothing`)
    }
    const listed: string[] = []
    for await (const object of storage.list({ prefix })) listed.push(object.key.slice(prefix.length))
    const expected = [...ODD_KEYS].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    expectThat(
      JSON.stringify(listed) === JSON.stringify(expected),
      `listed ${JSON.stringify(listed)}, expected ${JSON.stringify(expected)}`,
    )
    for (const name of ODD_KEYS) await storage.deleteObject(`${prefix}${name}`)
    for (const name of ODD_KEYS) {
      expectThat(
        (await storage.head(`${prefix}${name}`)) === null,
        `'${name}' still there after deleteObject`,
      )
    }
  },
}

const metadataLimit: Check = {
  id: 'metadata-limit',
  title: 'User metadata up to 2 KiB; more refused before signing',
  meaning:
    "upkit signs x-amz-meta-* headers into presigned PUTs and keeps them within AWS's 2 KiB; a provider with a lower limit refuses such uploads.",
  fix: 'Keep route metadata small (ids, not documents): store the rest in your database.',
  async run({ storage, prefix }) {
    const metadata = { upkit: 'v'.repeat(2048 - 'upkit'.length) }
    const put = await storage.presignPut({
      key: `${prefix}meta`,
      contentType: 'text/plain',
      contentLength: 1,
      expiresInSeconds: 300,
      metadata,
    })
    const response = await send(put, 'x')
    await expectOk(response, `a PUT with 2048 bytes of metadata was refused`)
    const over = storage.presignPut({
      key: `${prefix}meta-big`,
      contentType: 'text/plain',
      contentLength: 1,
      expiresInSeconds: 300,
      metadata: { upkit: `${metadata.upkit}v` },
    })
    const refused = await over.then(
      () => undefined,
      (error: unknown) => error,
    )
    if (!(refused instanceof RangeError)) throw new CheckFailure('2049 bytes of metadata were signed')
  },
}

export const objectChecks: readonly Check[] = [
  presignedPut,
  conditionalWrite,
  rangeReads,
  oddKeys,
  metadataLimit,
]
