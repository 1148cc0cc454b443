/**
 * Replay memory benchmark (`node --expose-gc --import tsx bench/replay-memory.ts`). Prints figures,
 * asserts nothing: the memory a replay holds once its history is in (heap and external, after a full
 * GC, at the last file, stores still open) above what it held before, per event (goal <= 1 KB at scale 16).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runReplay } from '../bin/commands/replay.js';
import { cloudTrailFileText, eventBridgeFileText, generateHistory } from '../samples/generate-history.js';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

const DAYS = Number(process.env['BENCH_DAYS'] ?? 28);
const SCALE = Number(process.env['BENCH_SCALE'] ?? 16);

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (e.g. node --expose-gc --import tsx bench/replay-memory.ts)');
/** The JavaScript heap plus memory outside it held by JavaScript objects (Buffers: dynalite's store keeps its data there). */
const heapAfterGc = (): number => {
  gc();
  gc();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
};

const discard = (): Writable => new Writable({ write: (_chunk, _encoding, done) => done() });

const dir = mkdtempSync(join(tmpdir(), 'buildwatch-bench-memory-'));
try {
  const folders = generateHistory({ startDate: '2026-10-01', days: DAYS, seed: 7, scale: SCALE, attack: false }).map((day) => {
    const folder = join(dir, day.date);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'cloudtrail.json'), cloudTrailFileText(day));
    writeFileSync(join(folder, 'eventbridge.jsonl'), eventBridgeFileText(day));
    return folder;
  });
  // A replay of the first day first: modules, compiled code and caches are in place before the base is taken.
  await runReplay(folders.slice(0, 1), { progress: false }, { stdout: discard(), stderr: discard() });
  const base = heapAfterGc();
  const lastFile = join(folders[folders.length - 1] ?? '', 'eventbridge.jsonl');
  let held = 0;
  const { stats } = await runReplay(folders, { progress: false }, { stdout: discard(), stderr: discard() }, undefined, {
    onFileDone: (file) => {
      if (file === lastFile) held = heapAfterGc() - base;
    },
  });
  const after = heapAfterGc() - base;
  console.log(`input: ${DAYS} days x scale ${SCALE}: ${stats.events} events; heap and external before the replay ${(base / 1024 / 1024).toFixed(1)} MB`);
  console.log(`memory held at the end of the history: ${(held / 1024 / 1024).toFixed(1)} MB = ${(held / stats.events).toFixed(0)} bytes per event (goal <= 1024)`);
  console.log(`memory after the stores closed       : ${(after / 1024 / 1024).toFixed(1)} MB`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
