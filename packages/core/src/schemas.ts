import { z } from 'zod'
import { cleanFileName } from './file-name'

/**
 * Shared by the tRPC procedures (input validation) and the browser (building requests). The parsed name is the
 * cleaned one (`cleanFileName`: NFC, no controls, no bidi or other invisible format characters), so whatever a
 * client sends, the stored name reads as it looks.
 */
export const fileNameSchema = z
  .string()
  // A bound before cleaning, so a megabyte of invisible characters is not normalized first and refused after.
  .max(4096, 'File names can be at most 255 characters.')
  .transform(cleanFileName)
  .pipe(z.string().min(1, 'A file name is required.').max(255, 'File names can be at most 255 characters.'))

/** The file fields of `uploads.create`, beside the route and its input. */
export const fileDescriptionSchema = z.object({
  fileName: fileNameSchema,
  size: z.number().int().nonnegative(),
  mimeType: z.string().max(255),
})

export const uploadIdSchema = z.object({ uploadId: z.uuid() })
