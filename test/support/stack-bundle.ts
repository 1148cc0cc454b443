/**
 * Bundles a few exports of the project with the stack's esbuild defines and banner (as the Lambdas
 * are built: the configuration and the catalogue validated at synth) and imports the result, so a
 * test sees what a cold start of a stack bundle does.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import type { BuildwatchConfig } from '../../lambdas/config/config.js';
import { bundlingOptions, PROJECT_ROOT } from '../../lib/constructs/handler-function.js';

/** `entry`: TypeScript source of the bundle's entry, importing from paths relative to the project root. */
export async function importStackBundle<T>(entry: string, config: BuildwatchConfig): Promise<T> {
  const options = bundlingOptions(config);
  const dir = mkdtempSync(join(tmpdir(), 'buildwatch-stack-bundle-'));
  try {
    const result = await build({
      stdin: { contents: entry, resolveDir: PROJECT_ROOT, loader: 'ts' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      define: { ...options.define },
      banner: { js: options.banner ?? '' },
      logLevel: 'error',
    });
    const file = join(dir, 'index.mjs');
    writeFileSync(file, result.outputFiles[0]!.text);
    return (await import(pathToFileURL(file).href)) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
