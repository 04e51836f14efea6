import type { PrismaClient } from './database'

const DEMO = [
  {
    name: 'Acme',
    slug: 'acme',
    users: [
      { email: 'ada@acme.test', name: 'Ada Lovelace' },
      { email: 'bob@acme.test', name: 'Bob Builder' },
    ],
    tasks: [
      { title: 'Ship the new logo', description: 'Upload the final logo files and the brand guide.' },
      { title: 'Quarterly report', description: 'Attach the spreadsheets and the signed PDF.' },
    ],
  },
  {
    name: 'Globex',
    slug: 'globex',
    users: [{ email: 'eve@globex.test', name: 'Eve Globex' }],
    tasks: [
      { title: 'Globex launch plan', description: 'Confidential: only Globex may see this.' },
      { title: 'Globex hiring', description: 'Collect the candidate portfolios.' },
    ],
  },
] as const

/** Seeds the demo companies once; later starts find them and change nothing. */
export async function seedDemoData(prisma: PrismaClient): Promise<boolean> {
  if ((await prisma.company.count()) > 0) return false
  for (const company of DEMO) {
    await prisma.company.create({
      data: {
        name: company.name,
        slug: company.slug,
        users: { create: company.users.map((user) => ({ ...user })) },
        tasks: { create: company.tasks.map((task) => ({ ...task })) },
      },
      select: { id: true },
    })
  }
  return true
}
