import type { PublicRoutePolicy, RouteCall } from '@upkit/core'
import Uppy, { type Meta, RestrictionError } from '@uppy/core'
import { describe, expect, it } from 'vitest'
import { admitFile } from './admission'
import type { PolicyState } from './route-policies'
import { UPKIT_CALL_META, type UpkitUploadBody } from './upkit-uploader'

type BucketPolicy = Extract<PublicRoutePolicy, { type: 'bucket' }>
const attachments: PolicyState<BucketPolicy> = {
  status: 'ready',
  policy: {
    type: 'bucket',
    maxBytes: 10,
    types: ['image/*', 'application/pdf'],
    maxFiles: 2,
    contentCheck: true,
    label: 'attachments',
  },
}
const call: RouteCall = { route: 'taskAttachment', input: { taskId: 't1' } }

/** A real Uppy whose `onBeforeFileAdded` is the gate, as `useUpkitUppy` sets it up (without uploading). */
function gatedUppy(policy: PolicyState<BucketPolicy>) {
  const refusals: string[] = []
  const waiting: RouteCall[] = []
  const uppy = new Uppy<Meta, UpkitUploadBody>({
    onBeforeFileAdded: (file, files) => {
      const admission = admitFile(policy, file, files, call)
      if (admission.action === 'accept') return admission.file
      if (admission.action === 'refuse') throw new RestrictionError(admission.message, { file })
      waiting.push(admission.call)
      return false
    },
  })
  uppy.on('restriction-failed', (_file, error) => {
    if ((error as { isUserFacing?: boolean }).isUserFacing !== false) refusals.push(error.message)
  })
  const add = (name: string, type: string, bytes: number) =>
    uppy.addFiles([{ name, type, data: new Blob([new Uint8Array(bytes)], { type }) }])
  return { uppy, refusals, waiting, add }
}

describe('admitFile', () => {
  it('checks only the type of an image the route compresses: its size is what compression makes of it', () => {
    const compressing: PolicyState<BucketPolicy> = {
      status: 'ready',
      policy: {
        ...(attachments.status === 'ready' ? attachments.policy : ({} as BucketPolicy)),
        compress: { maxEdge: 2560, type: 'image/webp', quality: 0.85 },
      },
    }
    const { uppy, refusals, add } = gatedUppy(compressing)
    add('screenshot.png', 'image/png', 11)
    add('huge.pdf', 'application/pdf', 11)
    expect(uppy.getFiles().map((file) => file.name)).toEqual(['screenshot.png'])
    expect(refusals).toHaveLength(1)
    expect(refusals[0]).toContain('huge.pdf')
  })

  it('never lets a refused file into Uppy, so it can never show a Retry; says why with the policy message', () => {
    const { uppy, refusals, add } = gatedUppy(attachments)
    add('empty.png', 'image/png', 0)
    add('page.html', 'text/html', 5)
    add('huge.pdf', 'application/pdf', 11)
    expect(uppy.getFiles()).toEqual([])
    expect(refusals).toEqual([
      '"empty.png" is empty.',
      '"page.html" is text/html; attachments must be one of: image/*, application/pdf.',
      '"huge.pdf" is 11 B; attachments can be at most 10 B.',
    ])
  })

  it('accepts the same file twice, each with the route call it was added for', () => {
    const { uppy, refusals, add } = gatedUppy(attachments)
    add('shot.png', 'image/png', 5)
    add('shot.png', 'image/png', 5)
    expect(refusals).toEqual([])
    const files = uppy.getFiles()
    expect(files).toHaveLength(2)
    expect(new Set(files.map((file) => file.id)).size).toBe(2)
    expect(files.map((file) => file.meta[UPKIT_CALL_META])).toEqual([call, call])
  })

  it('refuses more files than maxFiles uploading at once for one route call', () => {
    const { uppy, refusals, add } = gatedUppy(attachments)
    uppy.addFiles(
      ['a.png', 'b.png', 'c.png'].map((name) => ({ name, type: 'image/png', data: new Blob(['12345']) })),
    )
    expect(uppy.getFiles()).toHaveLength(2)
    expect(refusals).toEqual(['"c.png" was not added: at most 2 attachments can upload at once.'])
    add('d.png', 'image/png', 1)
    expect(refusals.at(-1)).toMatch(/"d.png" was not added/)
  })

  it('keeps files back, without a refusal, until the policy arrives; refuses all when it could not load', () => {
    const loading = gatedUppy({ status: 'loading' })
    loading.add('a.png', 'image/png', 5)
    expect(loading.uppy.getFiles()).toEqual([])
    expect(loading.refusals).toEqual([])
    expect(loading.waiting).toEqual([call])

    const failed = gatedUppy({ status: 'failed', message: 'Could not load the upload rules (offline).' })
    failed.add('a.png', 'image/png', 5)
    expect(failed.refusals).toEqual(['Could not load the upload rules (offline).'])
  })
})
