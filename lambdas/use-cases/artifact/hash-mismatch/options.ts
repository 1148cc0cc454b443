/** The knobs of artifact.hash-mismatch (`useCases["artifact.hash-mismatch"].options`). */
import * as z from 'zod';
import { builtOnFirstUse } from '../../../engine/use-case.js';

export const optionsSchema = builtOnFirstUse(() => z.strictObject({
  /** Minutes a package version waits for the build that produced it (events arrive minutes apart, out of order). */
  deadlineMinutes: z.number().int().min(0).max(1440).default(60),
  /** Asset names (globs) never compared: files published next to the build output that no build hashes. */
  uncomparedAssets: z.array(z.string().min(1)).default(['*.sig', '*.asc', '*.sha256', '*.sha512', '*.sha1', '*.md5', '*.cdx.json', '*.spdx.json']),
}));
