/**
 * The Lambda bundles keep zod's locales out (issue #15, goal 4): `import * as z from 'zod'` lets
 * esbuild drop the unused `z.locales` namespace (264 KB of the detect bundle), while
 * `import { z } from 'zod'` keeps every locale. And no function bundles the ECR client: only the
 * backfill asks ECR (lambdas/lookups/aws-ecr-lookups.ts). Built with the stack's own esbuild options.
 */
import { describe, expect, it } from 'vitest';
import { bundleInputs } from '../../bench/bundle.js';
import { handlerEntry } from '../../lib/constructs/handler-function.js';

describe('Lambda bundles', () => {
  for (const name of ['detect', 'notify', 'heartbeat'] as const) {
    it(`${name}: zod without its locales, except the English messages, and no ECR client`, { timeout: 60_000 }, async () => {
      const inputs = [...(await bundleInputs(handlerEntry(name)))].filter(([, bytes]) => bytes > 0).map(([path]) => path);
      // The bundle does use zod (so the check below is about something that is there).
      expect(inputs.some((path) => /node_modules\/zod\/v4\/core\//.test(path))).toBe(true);
      const locales = inputs.filter((path) => /node_modules\/zod\/v4\/locales\//.test(path));
      expect(locales.map((path) => path.replace(/^.*\/locales\//, ''))).toEqual(['en.js']);
      expect(inputs.some((path) => /node_modules\/@aws-sdk\/client-[a-z]/.test(path))).toBe(true);
      expect(inputs.filter((path) => /node_modules\/@aws-sdk\/client-ecr\//.test(path))).toEqual([]);
    });
  }
});
