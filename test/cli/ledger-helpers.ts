/** Shared by the export and verify CLI tests: captured streams, kept stores, the sample replayed once. */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { Finding } from '../../lambdas/engine/model.js';
import { keptStorePath, openLocalStores, type LocalStores } from '../../bin/commands/local-stores.js';
import { runReplay } from '../../bin/commands/replay.js';
import { capture, jsonLines } from '../support/capture.js';

export { capture, jsonLines };

export const ROOT = join(import.meta.dirname, '..', '..');



const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A temporary directory, removed after the test file. */
export function tempDir(prefix = 'buildwatch-ledger-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** `replay samples/history --keep DIR` once (the single-account sample; samples/ also holds the organisation sample and its configuration); each test works on its own copy. */
let sample: Promise<string> | undefined;
export function replayedSample(): Promise<string> {
  sample ??= (async () => {
    const dir = join(tempDir(), 'kept');
    const { io } = capture();
    const { exitCode } = await runReplay([join(ROOT, 'samples', 'history')], { keep: dir, config: join(ROOT, 'buildwatch.config.json') }, io);
    if (exitCode !== 0) throw new Error(`replaying the sample failed (${exitCode})`);
    return dir;
  })();
  return sample;
}

export async function copyOfSample(): Promise<string> {
  const copy = join(tempDir(), 'kept');
  cpSync(await replayedSample(), copy, { recursive: true });
  return copy;
}

/** Opens a kept store in the test process (to seed or to tamper), then closes it. */
export async function withKeptStore<T>(dir: string, use: (stores: LocalStores) => Promise<T>): Promise<T> {
  const stores = await openLocalStores(undefined, dir);
  try {
    return await use(stores);
  } finally {
    await stores.close();
  }
}

export async function keptStoreWith(items: readonly Finding[]): Promise<string> {
  const dir = join(tempDir(), 'kept');
  await withKeptStore(dir, async (stores) => {
    for (const item of items) await stores.findings.put(item);
  });
  return dir;
}

export { keptStorePath };
