/**
 * Writes the default sample history to samples/history/<YYYY-MM-DD>/{cloudtrail.json,eventbridge.jsonl}.
 * Run: npx tsx samples/write-samples.ts. The test in test/samples.test.ts fails when the committed
 * files drift from a fresh generation, so rerun this after changing the generator.
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_HISTORY_OPTIONS, generateHistory, sampleFiles } from './generate-history.js';

const HISTORY_DIR = join(dirname(fileURLToPath(import.meta.url)), 'history');

function main(): void {
  const days = generateHistory(DEFAULT_HISTORY_OPTIONS);
  mkdirSync(HISTORY_DIR, { recursive: true });
  // Only day folders are ours to replace; anything else in history/ is left alone.
  for (const entry of readdirSync(HISTORY_DIR)) {
    if (/^\d{4}-\d{2}-\d{2}$/.test(entry)) rmSync(join(HISTORY_DIR, entry), { recursive: true, force: true });
  }
  let bytes = 0;
  let records = 0;
  let events = 0;
  for (const day of days) {
    const dir = join(HISTORY_DIR, day.date);
    mkdirSync(dir, { recursive: true });
    for (const file of sampleFiles(day)) {
      const path = join(dir, file.name);
      writeFileSync(path, file.text);
      bytes += statSync(path).size;
    }
    records += day.cloudTrail.Records.length;
    events += day.eventBridge.length;
  }
  process.stderr.write(`wrote ${days.length} days to ${HISTORY_DIR}: ${records} CloudTrail records, ${events} EventBridge events, ${(bytes / 1024 / 1024).toFixed(2)} MiB\n`);
}

main();
