import { createHash, randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { PrismaClient } from './database'
import type { InvoicesContext } from './trpc'

/** A working day: a bearer token in localStorage should not outlive the browser session by much. */
const TOKEN_TTL_MS = 12 * 60 * 60 * 1000

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex')

/** Hands out a fresh bearer token for the member; only its hash is stored. */
export async function issueToken(prisma: PrismaClient, memberId: string, now = new Date()): Promise<string> {
  const token = randomBytes(32).toString('base64url')
  await prisma.accessToken.create({
    data: { tokenHash: hashToken(token), memberId, expiresAt: new Date(now.getTime() + TOKEN_TTL_MS) },
    select: { tokenHash: true },
  })
  return token
}

export async function revokeToken(prisma: PrismaClient, tokenHash: string): Promise<void> {
  await prisma.accessToken.deleteMany({ where: { tokenHash } })
}

/**
 * The context of any request, tRPC or plain (`/files/:id`): the bearer token of the Authorization header, looked
 * up by hash. No cookie: a request without the header is anonymous, so a link pasted elsewhere opens nothing.
 */
export async function contextFromRequest(
  prisma: PrismaClient,
  req: IncomingMessage,
): Promise<InvoicesContext> {
  const match = /^Bearer ([A-Za-z0-9_-]{20,100})$/.exec(req.headers.authorization ?? '')
  if (!match?.[1]) return { auth: null }
  const tokenHash = hashToken(match[1])
  const found = await prisma.accessToken.findUnique({
    where: { tokenHash },
    select: { expiresAt: true, member: { select: { id: true, orgId: true } } },
  })
  if (!found || found.expiresAt.getTime() <= Date.now()) return { auth: null }
  return { auth: { memberId: found.member.id, orgId: found.member.orgId, tokenHash } }
}
