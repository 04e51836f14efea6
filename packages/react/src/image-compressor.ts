import {
  type PublicRoutePolicy,
  type ResolvedPolicy,
  type RouteCall,
  typeAllowed,
  type UploadApi,
} from '@upkit/core'
import { BasePlugin, type Meta, type PluginOpts, type Uppy, type UppyFile } from '@uppy/core'
import { decodeImage, drawImage, isRasterImage } from './image-canvas'
import { fitWithin } from './inline-image'
import { policiesOf } from './route-policies'
import { UPKIT_CALL_META, type UpkitUploadBody } from './upkit-uploader'

/** A route's `compress` as the browser gets it in `uploads.policies`. */
export type ImageCompressionSettings = NonNullable<ResolvedPolicy['compress']>

/** Set on a file once it went through the compressor, so a retry does not decode and re-encode it again. */
export const COMPRESSED_META = 'upkitCompressed'

const EXTENSIONS: Record<string, string> = { 'image/webp': 'webp', 'image/jpeg': 'jpg' }

/** `shot.png` compressed to WebP is `shot.webp`: the name people download matches the bytes they get. */
export function compressedFileName(name: string, type: string): string {
  const extension = EXTENSIONS[type]
  if (!extension) return name
  const dot = name.lastIndexOf('.')
  const stem = dot > 0 ? name.slice(0, dot) : name
  return `${stem}.${extension}`
}

/**
 * Resizes an image to fit `settings.maxEdge` and re-encodes it as `settings.type`. `null` means "upload the
 * original": not a raster image (SVG and GIF are never touched), not decodable, a browser that cannot encode the
 * type (WebKit and WebP; a JPEG photo then goes out as JPEG when the route takes JPEG), or a result that is not
 * smaller than the original, which happens with small or already well-compressed images.
 */
export async function compressImage(
  file: Blob,
  settings: ImageCompressionSettings,
  routeTypes: readonly string[],
): Promise<Blob | null> {
  if (!isRasterImage(file.type)) return null
  const bitmap = await decodeImage(file, settings.maxEdge)
  if (!bitmap) return null
  try {
    const { width, height } = fitWithin(bitmap.width, bitmap.height, settings.maxEdge)
    let type: string = settings.type
    let drawn = drawImage(bitmap, width, height, type === 'image/jpeg')
    if (!drawn) return null
    let encoded = await drawn.encode(type, settings.quality)
    if (encoded.type !== type) {
      // Only a JPEG has nothing JPEG would lose (transparency); anything else stays the original.
      if (file.type !== 'image/jpeg' || !typeAllowed(routeTypes, 'image/jpeg')) return null
      type = 'image/jpeg'
      drawn = drawImage(bitmap, width, height, true)
      if (!drawn) return null
      encoded = await drawn.encode(type, settings.quality)
      if (encoded.type !== type) return null
    }
    return encoded.size < file.size ? encoded : null
  } catch {
    return null
  } finally {
    bitmap.close()
  }
}

export interface UpkitImageCompressorOptions extends PluginOpts {
  id?: string
  /** The upload api, read when a file arrives; each file's route's `compress` comes from `api.policies()`. */
  api: () => UploadApi<RouteCall>
  /**
   * The policy the host gave instead of the server's (`useUploads({ policy })`), if any: when given it is the only
   * source of `compress`, as it is of every other rule.
   */
  policy?: () => Omit<Extract<PublicRoutePolicy, { type: 'bucket' }>, 'type'> | undefined
}

/**
 * An Uppy preprocessor (as `@uppy/compressor` is, without Compressor.js) that applies a route's `compress` policy
 * before the file uploads: a pasted 4K screenshot or a 12 MP photo leaves the browser resized and re-encoded. Files
 * of routes without `compress`, and anything but raster images, pass through untouched. Files are done one at a
 * time: each decode holds a whole bitmap in memory.
 */
export class UpkitImageCompressor<M extends Meta = Meta> extends BasePlugin<
  UpkitImageCompressorOptions,
  M,
  UpkitUploadBody
> {
  constructor(uppy: Uppy<M, UpkitUploadBody>, opts: UpkitImageCompressorOptions) {
    super(uppy, opts)
    this.id = opts.id ?? 'UpkitImageCompressor'
    this.type = 'modifier'
  }

  override install(): void {
    this.uppy.addPreProcessor(this.#prepare)
  }

  override uninstall(): void {
    this.uppy.removePreProcessor(this.#prepare)
  }

  #prepare = async (fileIds: string[]): Promise<void> => {
    for (const id of fileIds) await this.#compress(id)
  }

  async #policyOf(call: RouteCall | undefined) {
    const override = this.opts.policy?.()
    if (override) return override
    if (!call) return undefined
    try {
      const policy = (await policiesOf(this.opts.api()))[call.route]
      return policy?.type === 'bucket' ? policy : undefined
    } catch {
      // The uploader reports a policy it cannot load; compression is an optimisation and is skipped.
      return undefined
    }
  }

  async #compress(id: string): Promise<void> {
    const file = this.uppy.getFile(id)
    if (!file || file.meta[COMPRESSED_META] || !isRasterImage(file.type)) return
    const policy = await this.#policyOf(file.meta[UPKIT_CALL_META] as RouteCall | undefined)
    if (!policy?.compress) return
    this.uppy.emit('preprocess-progress', file, { mode: 'indeterminate', message: 'Compressing…' })
    const compressed = await compressImage(file.data as Blob, policy.compress, policy.types)
    const current = this.uppy.getFile(id) as UppyFile<M, UpkitUploadBody> | undefined
    // Removed while it was being compressed.
    if (!current) return
    if (compressed) {
      const name = compressedFileName(current.name ?? 'image', compressed.type)
      this.uppy.setFileState(id, {
        data: compressed,
        size: compressed.size,
        type: compressed.type,
        name,
        extension: EXTENSIONS[compressed.type] ?? '',
        progress: { ...current.progress, bytesTotal: compressed.size },
      })
      this.uppy.setFileMeta(id, { name, type: compressed.type } as unknown as M)
    }
    this.uppy.setFileMeta(id, { [COMPRESSED_META]: true } as unknown as M)
    this.uppy.emit('preprocess-complete', this.uppy.getFile(id))
  }
}
