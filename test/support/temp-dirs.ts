/**
 * Temporary directories for tests, removed after the test file that made them (by the setup file
 * test/support/after-each-file.ts): a helper module is evaluated once per worker when files share
 * it (vitest's isolate: false), so a hook it registered at import would run after the first file only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** A temporary directory, removed after the current test file. */
export function tempDir(prefix = 'buildwatch-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes the directories made since the last call (the current file's). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
