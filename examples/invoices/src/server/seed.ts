import type { PrismaClient } from './database'

const ORGANIZATIONS = [
  {
    name: 'Northwind Traders',
    members: [
      { email: 'nina@northwind.test', name: 'Nina Northwind' },
      { email: 'omar@northwind.test', name: 'Omar Okafor' },
    ],
    vendors: ['Office Supplies Co', 'Fast Freight'],
    invoices: [
      { number: 'NW-1001', vendor: 'Office Supplies Co', amountCents: 12_950 },
      { number: 'NW-1002', vendor: 'Fast Freight', amountCents: 48_000 },
    ],
  },
  {
    name: 'Contoso Ltd',
    members: [{ email: 'carl@contoso.test', name: 'Carl Contoso' }],
    vendors: ['Cloud Hosting GmbH'],
    invoices: [{ number: 'CO-2001', vendor: 'Cloud Hosting GmbH', amountCents: 99_900 }],
  },
] as const

/** Seeds the two organizations once; later starts find them and change nothing. */
export async function seedInvoices(prisma: PrismaClient): Promise<boolean> {
  if ((await prisma.organization.count()) > 0) return false
  for (const seed of ORGANIZATIONS) {
    const org = await prisma.organization.create({
      data: {
        name: seed.name,
        members: { create: seed.members.map((member) => ({ ...member })) },
        vendors: { create: seed.vendors.map((name) => ({ name })) },
      },
      select: { id: true, vendors: { select: { id: true, name: true } } },
    })
    const vendorId = new Map(org.vendors.map((vendor) => [vendor.name, vendor.id]))
    await prisma.invoice.createMany({
      data: seed.invoices.map(({ vendor, ...invoice }) => ({
        ...invoice,
        orgId: org.id,
        vendorId: vendorId.get(vendor) ?? '',
      })),
    })
  }
  return true
}
