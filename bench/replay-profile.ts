/**
 * Where a replay spends its time (`node --import tsx bench/replay-profile.ts`): generates the bench
 * history (seed 7, no attack) at BENCH_SCALE (default 16), replays it BENCH_WARM times (default 2) so
 * the code is compiled as in the bench's later scales, then once under the V8 CPU profiler. Prints the
 * wall time of each use case's evaluations and the heaviest functions by self time, leaving out the parse-only
 * work (reading files, toPipelineEvent) the bench divides by; writes the profile for a viewer
 * (Chrome DevTools, speedscope) to BENCH_PROFILE (default replay.cpuprofile). Prints figures, asserts nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { Profiler } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { runReplay } from '../bin/commands/replay.js';
import { Engine } from '../lambdas/engine/engine.js';
import { writeGeneratedHistory } from './findings-digest.js';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

const SCALE = Number(process.env['BENCH_SCALE'] ?? 16);
const WARM = Number(process.env['BENCH_WARM'] ?? 2);
const OUT = process.env['BENCH_PROFILE'] ?? 'replay.cpuprofile';
/** Frames whose time is the parse-only pass's, not the replay's own. */
const PARSE_FRAMES = ['readInputFile', 'toPipelineEvent', 'expandInputPaths'];
/** The profiler's own frames and idle time. */
const NOT_WORK = new Set(['(idle)', '(program)', 'dispatch']);

const discard = (): Writable => new Writable({ write: (_chunk, _encoding, done) => done() });

/**
 * Wall time (awaits included) of Engine.evaluate by use case: the use case's logic, the engine's
 * policy layer, its store calls and the findings it writes. A profiling aid: the method is wrapped.
 */
function timeEvaluations(spent: Map<string, number>): () => void {
  const original = Engine.prototype.evaluate;
  Engine.prototype.evaluate = async function (this: Engine, useCase, event) {
    const started = performance.now();
    try {
      return await original.call(this, useCase, event);
    } finally {
      spent.set(useCase.metadata.id, (spent.get(useCase.metadata.id) ?? 0) + performance.now() - started);
    }
  };
  return () => {
    Engine.prototype.evaluate = original;
  };
}

/** Self time (ms) by function, without the samples under a parse-only frame. */
function selfTimes(profile: Profiler.Profile): Array<[string, number]> {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const name = (node: Profiler.ProfileNode): string => `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.replace(/^.*\/(node_modules|lambdas|bin|bench)\//, '$1/')}`;
  const self = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  samples.forEach((id, index) => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = nodes.get(at);
      if (frame && PARSE_FRAMES.includes(frame.callFrame.functionName)) return;
    }
    const node = nodes.get(id);
    if (node && !NOT_WORK.has(node.callFrame.functionName)) self.set(name(node), (self.get(name(node)) ?? 0) + (deltas[index] ?? 0) / 1000);
  });
  return [...self].sort((a, b) => b[1] - a[1]);
}

const dir = mkdtempSync(join(tmpdir(), 'buildwatch-bench-profile-'));
try {
  const folders = writeGeneratedHistory(dir, { startDate: '2026-10-01', days: 28, seed: 7, scale: SCALE, attack: false });
  const replay = () => runReplay(folders, { json: true, kind: 'all', progress: false }, { stdout: discard(), stderr: discard() });
  for (let round = 0; round < WARM; round += 1) await replay();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  const spent = new Map<string, number>();
  const restore = timeEvaluations(spent);
  const cpu = process.cpuUsage();
  const { stats } = await replay().finally(restore);
  const used = process.cpuUsage(cpu);
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  writeFileSync(OUT, JSON.stringify(profile));
  console.log(`scale ${SCALE}: ${stats.events} events replayed in ${((used.user + used.system) / 1000).toFixed(0)} ms CPU (profiled), after ${WARM} warm-up replays; profile in ${OUT}`);
  console.log('use cases, wall ms in Engine.evaluate (logic, policy, stores, findings written):');
  for (const [id, ms] of [...spent].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`  ${ms.toFixed(0).padStart(6)}  ${id}`);
  console.log('heaviest functions by self time, ms (parse-only work left out):');
  for (const [frame, ms] of selfTimes(profile).slice(0, 30)) console.log(`  ${ms.toFixed(0).padStart(6)}  ${frame}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
