/**
 * Replay benchmark (`npm run bench`). Prints figures, asserts nothing:
 *  1. throughput of a full replay (routing, engine, embedded DynamoDB) against a parse-only pass
 *     over the same generated input, measured in the same run (the ratio is the engine's overhead);
 *  2. DynamoDB calls per event over a steady-state window (the last week of a history whose first
 *     weeks built the baselines); the goal is <= 0.05.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { runReplay, type ReplayStats } from '../bin/commands/replay.js';
import { expandInputPaths, readInputFile } from '../lambdas/engine/normalise-input.js';
import { toPipelineEvent } from '../lambdas/engine/pipeline-event.js';
import { useCases } from '../lambdas/use-cases/index.js';
import { cloudTrailFileText, eventBridgeFileText, generateHistory } from '../samples/generate-history.js';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

const DAYS = Number(process.env['BENCH_DAYS'] ?? 28);
const SCALE = Number(process.env['BENCH_SCALE'] ?? 8);
const STEADY_DAYS = 7;

const discard = (): Writable => new Writable({ write: (_chunk, _encoding, done) => done() });

function writeHistory(dir: string): string[] {
  const days = generateHistory({ startDate: '2026-10-01', days: DAYS, seed: 7, scale: SCALE, attack: false });
  return days.map((day) => {
    const folder = join(dir, day.date);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'cloudtrail.json'), cloudTrailFileText(day));
    writeFileSync(join(folder, 'eventbridge.jsonl'), eventBridgeFileText(day));
    return folder;
  });
}

async function parseOnly(paths: string[]): Promise<{ events: number; ms: number }> {
  const started = performance.now();
  const { files } = await expandInputPaths(paths);
  let events = 0;
  for (const file of files) {
    for (const envelope of (await readInputFile(file)).events) {
      toPipelineEvent(envelope);
      events += 1;
    }
  }
  return { events, ms: performance.now() - started };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'buildwatch-bench-'));
  try {
    const folders = writeHistory(dir);
    const steadyFrom = folders[folders.length - STEADY_DAYS] ?? folders[0] ?? '';

    // Warm the parser once so both passes run on compiled code.
    await parseOnly(folders.slice(0, 1));
    const parse = await parseOnly(folders);

    let atSteadyStart: ReplayStats | undefined;
    const started = performance.now();
    const { stats } = await runReplay(folders, { progress: false }, { stdout: discard(), stderr: discard() }, undefined, {
      // Files arrive in time order: the last snapshot taken before the window closes the warm-up.
      onFileDone: (file, current) => {
        if (file < steadyFrom) atSteadyStart = structuredClone({ ...current, problems: [] });
      },
    });
    const replayMs = performance.now() - started;

    const steadyEvents = stats.events - (atSteadyStart?.events ?? 0);
    const steadyCalls = stats.dynamoCalls - (atSteadyStart?.dynamoCalls ?? 0);
    const perSecond = (events: number, ms: number) => Math.round((events / ms) * 1000);

    console.log(`input: ${DAYS} days x scale ${SCALE}: ${parse.events} events in ${folders.length * 2} files`);
    console.log(`parse-only pass : ${parse.ms.toFixed(0)} ms (${perSecond(parse.events, parse.ms)} events/s)`);
    console.log(`full replay     : ${replayMs.toFixed(0)} ms (${perSecond(stats.events, replayMs)} events/s), ${stats.alerts} alerts, ${stats.attestations} attestations`);
    console.log(`replay / parse  : ${(replayMs / parse.ms).toFixed(2)}x the parse-only time`);
    console.log(`DynamoDB calls  : ${stats.dynamoCalls} in all, ${(stats.dynamoCalls / stats.events).toFixed(4)} per event over the whole history`);
    console.log(`steady state    : last ${STEADY_DAYS} days, ${steadyEvents} events, ${steadyCalls} calls = ${(steadyCalls / Math.max(1, steadyEvents)).toFixed(4)} calls per event (goal <= 0.05)`);
    // Where the steady-state calls go: baselines (firstSeen, drift) are what the <= 0.05 goal is about;
    // correlation records and ledger writes (attestations) scale with builds and publishes, not events.
    const kinds = new Map(useCases.map((useCase) => [useCase.metadata.id, useCase.logic.kind]));
    const rows = Object.entries(stats.byUseCase)
      .map(([id, usage]) => ({ id, kind: kinds.get(id) ?? '?', calls: usage.dynamoCalls - (atSteadyStart?.byUseCase[id]?.dynamoCalls ?? 0), evaluations: usage.evaluations - (atSteadyStart?.byUseCase[id]?.evaluations ?? 0) }))
      .filter((row) => row.calls > 0)
      .sort((a, b) => b.calls - a.calls);
    const baselineCalls = rows.filter((row) => row.kind === 'firstSeen' || row.kind === 'drift').reduce((sum, row) => sum + row.calls, 0);
    console.log(`  of which baselines (firstSeen, drift): ${baselineCalls} calls = ${(baselineCalls / Math.max(1, steadyEvents)).toFixed(4)} per event`);
    for (const row of rows) console.log(`    ${row.id.padEnd(34)} ${row.kind.padEnd(10)} ${String(row.calls).padStart(6)} calls for ${row.evaluations} evaluations`);
    if (stats.problems.length > 0) console.log(`input problems  : ${stats.problems.length} (first: ${stats.problems[0]?.reason})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
