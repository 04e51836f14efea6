import { createHash } from 'node:crypto'
import { assertLogoAllowed, formatBytes, LOGO_MAX_BASE64_LENGTH, LOGO_POLICY, UpkitError } from '@upkit/core'
import type { Prisma, PrismaClient } from '@upkit/db'

/** The only logo columns ever read outside the logo route; the bytes themselves are never in a list query. */
export const logoRefSelect = { id: true, logoHash: true } satisfies Prisma.CompanySelect

export function logoUrl(companyId: string, hash: string | null): string | null {
  return hash ? `/logos/${companyId}/${hash}` : null
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** Strict base64: Node's decoder silently skips garbage, which would let a malformed body through as bytes. */
function decodeBase64(input: string): Uint8Array<ArrayBuffer> {
  if (input.length > LOGO_MAX_BASE64_LENGTH + 4) {
    // Refused before decoding: the encoded length already proves the decoded size is over the cap.
    const decodedBytes = Math.floor((input.length * 3) / 4)
    throw new UpkitError(
      'FILE_TOO_LARGE',
      `The logo is about ${formatBytes(decodedBytes)}; logos can be at most ${formatBytes(LOGO_POLICY.maxBytes)}.`,
    )
  }
  if (input.length % 4 !== 0 || !BASE64.test(input)) {
    throw new UpkitError('INVALID_INPUT', 'The logo must be sent as base64.')
  }
  const decoded = Buffer.from(input, 'base64')
  return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.length) as Uint8Array<ArrayBuffer>
}

export function createLogoService({ prisma }: { prisma: PrismaClient }) {
  return {
    /**
     * Validates without trusting the browser (size, magic bytes, header dimensions) and only then replaces the
     * stored logo, in one UPDATE: a refused logo leaves the old one untouched.
     */
    async set(
      companyId: string,
      imageBase64: string,
    ): Promise<{ url: string; mimeType: string; width: number; height: number }> {
      const bytes = decodeBase64(imageBase64)
      const info = assertLogoAllowed(bytes)
      const hash = createHash('sha256').update(bytes).digest('hex')
      await prisma.company.update({
        where: { id: companyId },
        data: { logo: bytes, logoMimeType: info.type, logoHash: hash, logoUpdatedAt: new Date() },
        select: { id: true },
      })
      return {
        url: logoUrl(companyId, hash) as string,
        mimeType: info.type,
        width: info.width,
        height: info.height,
      }
    },

    async remove(companyId: string): Promise<void> {
      await prisma.company.update({
        where: { id: companyId },
        data: { logo: null, logoMimeType: null, logoHash: null, logoUpdatedAt: new Date() },
        select: { id: true },
      })
    },

    async current(companyId: string): Promise<{ url: string | null }> {
      const company = await prisma.company.findUnique({ where: { id: companyId }, select: logoRefSelect })
      if (!company) throw new UpkitError('NOT_FOUND', 'This company does not exist.')
      return { url: logoUrl(company.id, company.logoHash) }
    },

    /** For the HTTP route only: the bytes, when `hash` is still the current logo. */
    async read(
      companyId: string,
      hash: string,
    ): Promise<{ bytes: Uint8Array; mimeType: string; hash: string } | null> {
      const company = await prisma.company.findFirst({
        where: { id: companyId, logoHash: hash },
        select: { logo: true, logoMimeType: true, logoHash: true },
      })
      if (!company?.logo || !company.logoMimeType || !company.logoHash) return null
      return { bytes: company.logo, mimeType: company.logoMimeType, hash: company.logoHash }
    },
  }
}

export type LogoService = ReturnType<typeof createLogoService>
