export interface GeneratePrismaClientOptions {
  /** The schema file or multi-file schema folder, relative to `cwd`. */
  schema: string
  /** Default: `process.cwd()`. */
  cwd?: string
  /** Files copied into the schema folder first (overwriting), such as upkit's `upkit.prisma`. */
  copy?: string[]
}

export function generatePrismaClient(options: GeneratePrismaClientOptions): void
