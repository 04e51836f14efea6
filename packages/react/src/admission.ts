import { checkFileAllowed, normalizeMimeType, type PublicRoutePolicy, type RouteCall } from '@upkit/core'
import type { Meta, UppyFile } from '@uppy/core'
import { isRasterImage } from './image-canvas'
import type { PolicyState } from './route-policies'
import { UPKIT_CALL_META, type UpkitUploadBody } from './upkit-uploader'

type File_ = UppyFile<Meta, UpkitUploadBody>

/** What to do with a file someone added. */
export type Admission =
  /** The policy has not arrived yet: keep the file and decide when it does. */
  | { readonly action: 'wait'; readonly call: RouteCall }
  | { readonly action: 'refuse'; readonly message: string }
  /** Add this file: a unique id, and the route call it was added for in its meta. */
  | { readonly action: 'accept'; readonly file: File_ }

const callKey = (call: RouteCall) => JSON.stringify([call.route, call.input])
let admitted = 0

/**
 * The decision behind `onBeforeFileAdded`: the route's policy (the same `checkFileAllowed` the server runs, with
 * its messages) and `maxFiles` counted over the files of the same route call still uploading. `files` is what
 * Uppy passes: the files already added plus those accepted earlier in the same batch.
 */
export function admitFile(
  policy: PolicyState<Extract<PublicRoutePolicy, { type: 'bucket' }>>,
  file: File_,
  files: Record<string, File_>,
  currentCall: RouteCall,
): Admission {
  const call = (file.meta[UPKIT_CALL_META] as RouteCall | undefined) ?? currentCall
  if (policy.status === 'loading') return { action: 'wait', call }
  if (policy.status === 'failed') return { action: 'refuse', message: policy.message }
  const name = file.name ?? 'file'
  const mimeType = normalizeMimeType(file.type)
  const size = file.size ?? 0
  // An image the route compresses is sent compressed: its size now says nothing about what the server gets (a
  // 15 MB screenshot becomes a few hundred KB), so only its type is checked here; the server checks the size of
  // what arrives on create.
  const compressed = policy.policy.compress !== undefined && isRasterImage(mimeType) && size > 0
  const refusal = checkFileAllowed(policy.policy, {
    fileName: name,
    size: compressed ? Math.min(size, policy.policy.maxBytes) : size,
    mimeType,
  })
  if (refusal) return { action: 'refuse', message: refusal.message }
  const key = callKey(call)
  const active = Object.values(files).filter((other) => {
    const otherCall = other.meta[UPKIT_CALL_META] as RouteCall | undefined
    return otherCall && callKey(otherCall) === key && !other.progress.uploadComplete && !other.error
  }).length
  const { maxFiles, label } = policy.policy
  if (active >= maxFiles)
    return {
      action: 'refuse',
      message: `"${name}" was not added: at most ${maxFiles} ${label} can upload at once.`,
    }
  // Uppy derives ids from name, type, size and date and would refuse a "duplicate": choosing the same file
  // again after a failure, or pasting one screenshot twice, must still start an upload.
  admitted += 1
  return {
    action: 'accept',
    file: { ...file, id: `${file.id}-${admitted}`, meta: { ...file.meta, [UPKIT_CALL_META]: call } },
  }
}
