import { createHash } from 'node:crypto'
import {
  assertInlineImageAllowed,
  inlineImageUrl,
  isKeySegment,
  type StoredInlineImage,
  UpkitError,
  type UpkitPaths,
} from '@upkit/core'
import { type AnyInlineRoute, type AnyRoutes, routeOfType } from '../routes/define-routes'
import { authorizeCall, parseInput } from '../uploads/upload-access'
import { decodeBase64 } from './decode-base64'
import { verifyImage } from './verify-image'

const HASH = /^[0-9a-f]{64}$/

function inlineRoute(routes: AnyRoutes, name: string): AnyInlineRoute {
  const route = routeOfType(routes, name, 'inline')
  if (!route) throw new UpkitError('INVALID_INPUT', `There is no inline image route "${name}".`)
  return route
}

/** Inline image routes: checked bytes into the app's table through its hooks, served by content hash. */
export function createInlineService(routes: AnyRoutes, paths: UpkitPaths) {
  async function authorize(ctx: unknown, call: { route: string; input: unknown }) {
    const route = inlineRoute(routes, call.route)
    const input = parseInput(route, call.input)
    const auth = await authorizeCall(route, ctx, input)
    if (auth.ownerId === null || !isKeySegment(auth.ownerId))
      throw new TypeError(`authorize of inline route "${call.route}" must return a key-safe ownerId.`)
    return {
      route,
      args: { input, metadata: auth.metadata, tenantId: auth.tenantId, ownerId: auth.ownerId, ctx },
    }
  }

  return {
    /**
     * Validates without trusting the browser (size, magic bytes, header dimensions, then the whole file) and only
     * then hands the image to the app's `onStored`: a refused image leaves the stored one untouched.
     */
    async set(
      ctx: unknown,
      call: { route: string; input: unknown; imageBase64: string },
    ): Promise<StoredInlineImage> {
      const { route, args } = await authorize(ctx, call)
      const bytes = decodeBase64(call.imageBase64, route.policy.maxBytes, route.policy.label)
      const info = assertInlineImageAllowed(route.policy, bytes)
      // The header alone let a truncated file through (signature + IHDR is 33 bytes); browsers show such a file
      // broken or half drawn, and whatever parses it next may not be as forgiving.
      await verifyImage(bytes, info, route.policy.label)
      const hash = createHash('sha256').update(bytes).digest('hex')
      await route.config.onStored({ ...args, image: { bytes, mimeType: info.type, hash, ...info } })
      return {
        url: inlineImageUrl(paths, call.route, args.ownerId, hash),
        hash,
        mimeType: info.type,
        width: info.width,
        height: info.height,
      }
    },

    async remove(ctx: unknown, call: { route: string; input: unknown }): Promise<void> {
      const { route, args } = await authorize(ctx, call)
      await route.config.onRemoved(args)
    },

    /** For the HTTP route: the bytes, when `hash` is still the owner's current image; else `null`. */
    async read(
      routeName: string,
      ownerId: string,
      hash: string,
    ): Promise<{ bytes: Uint8Array; mimeType: string } | null> {
      const route = routeOfType(routes, routeName, 'inline')
      if (!route || !isKeySegment(ownerId) || !HASH.test(hash)) return null
      const image = await route.config.load({ ownerId, hash })
      if (!image) return null
      // The app's loader is trusted with the lookup, not with the answer: bytes that do not hash to the URL are
      // never served under it (an immutable cache would keep them for a year).
      if (createHash('sha256').update(image.bytes).digest('hex') !== hash) return null
      return image
    },
  }
}

export type InlineService = ReturnType<typeof createInlineService>
