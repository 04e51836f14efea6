import { z } from 'zod'

/** Shared by the tRPC procedures (input validation) and the browser (building requests). */
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

/** The file fields of `uploads.create`, beside the route and its input. */
export const fileDescriptionSchema = z.object({
  fileName: fileNameSchema,
  size: z.number().int().nonnegative(),
  mimeType: z.string().max(255),
})

export const uploadIdSchema = z.object({ uploadId: z.uuid() })
