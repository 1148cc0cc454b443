/** Shared by the export and verify CLI tests: captured streams, kept stores, the sample replayed once. */
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding } from '../../lambdas/engine/model.js';
import { keptStorePath, openLocalStores, type LocalStores } from '../../bin/commands/local-stores.js';
import { runReplay } from '../../bin/commands/replay.js';
import { capture, jsonLines } from '../support/capture.js';
import { tempDir as testTempDir } from '../support/temp-dirs.js';

export { capture, jsonLines };

export const ROOT = join(import.meta.dirname, '..', '..');

/** A temporary directory, removed after the test file. */
export function tempDir(prefix = 'buildwatch-ledger-'): string {
  return testTempDir(prefix);
}

/** `replay samples/history --keep DIR` once (the single-account sample; samples/ also holds the organisation sample and its configuration); each test works on its own copy. */
let sample: { readonly tempDir: string; readonly replayed: Promise<string> } | undefined;
export function replayedSample(): Promise<string> {
  // Replayed again once the file that replayed it is over and its directory removed (the temporary
  // directory, made at once: the store in it appears during the replay).
  if (sample && existsSync(sample.tempDir)) return sample.replayed;
  const parent = tempDir();
  const dir = join(parent, 'kept');
  sample = { tempDir: parent, replayed: (async () => {
    const { io } = capture();
    const { exitCode } = await runReplay([join(ROOT, 'samples', 'history')], { keep: dir, config: join(ROOT, 'buildwatch.config.json') }, io);
    if (exitCode !== 0) throw new Error(`replaying the sample failed (${exitCode})`);
    return dir;
  })() };
  return sample.replayed;
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
