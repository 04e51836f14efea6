import { z } from 'zod'
import { FILE_KINDS } from './policies'

/** Shared by the tRPC router (input validation) and the browser (building requests). */
export const fileKindSchema = z.enum(FILE_KINDS)

export const fileNameSchema = z
  .string()
  .trim()
  .min(1, 'A file name is required.')
  .max(255, 'File names can be at most 255 characters.')
  // Control characters would end up in Content-Disposition headers and logs.
  .refine(
    (name) => ![...name].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f),
    'File names cannot contain control characters.',
  )

export const createUploadInputSchema = z.object({
  taskId: z.uuid(),
  fileName: fileNameSchema,
  size: z.number().int().nonnegative(),
  mimeType: z.string().max(255),
  kind: fileKindSchema,
})
export type CreateUploadInput = z.infer<typeof createUploadInputSchema>

export const uploadIdSchema = z.object({ uploadId: z.uuid() })

export const signInInputSchema = z.object({ email: z.email().max(320) })
