/**
 * Digests of what a replay finds, so a change to the store, the router or the correlations can be
 * shown to leave every finding as it was (issue #15). Shared by the digest test, `npm run digests`
 * and the bench.
 *
 * A finding's digest is the sha256 of the canonical JSON (keys sorted at every level) of its fields
 * that follow from the input: everything but `recordedAt` (the wall clock) and `contentHash` (which
 * covers `recordedAt`). Findings come from `replay --json` (every new finding, alerts and
 * attestations); repeats folded into an earlier finding afterwards show in the run's counts.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { runReplay, type ReplayStats } from '../bin/commands/replay.js';
import { generateHistory, sampleFiles, type HistoryOptions } from '../samples/generate-history.js';

/** Fields of a stored finding that do not follow from the input. */
const NOT_FROM_INPUT = new Set(['recordedAt', 'contentHash']);

export interface HistoryDigest {
  /** sha256 of the input files (path relative to the history, then content), in replay order. */
  readonly input: string;
  readonly counts: RunCounts;
  /** sha256 of the sorted per-finding digests: one value to compare across runs and stores. */
  readonly findings: string;
  /** Finding id → the first 16 hex digits of its digest, sorted by id. */
  readonly byId: Record<string, string>;
}

export interface RunCounts {
  readonly events: number;
  readonly alerts: number;
  readonly attestations: number;
  readonly duplicates: number;
  readonly deduplicated: number;
  readonly heldBack: number;
  readonly problems: number;
}

export interface ReplayedHistory {
  readonly digest: HistoryDigest;
  /** The findings as canonical JSON, by id (for showing what changed). */
  readonly canonical: Map<string, string>;
  readonly stats: ReplayStats;
}

/** JSON with object keys sorted at every level, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner;
    const sorted: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(inner).sort()) sorted[key] = (inner as Record<string, unknown>)[key];
    return sorted;
  });
}

/** The finding's fields that follow from the input, as canonical JSON. */
export function canonicalFinding(finding: Record<string, unknown>): string {
  const kept: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of Object.entries(finding)) if (!NOT_FROM_INPUT.has(key)) kept[key] = value;
  return canonicalJson(kept);
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * Reads `replay --json` output as it is written and keeps each finding's digest (and, if asked, its
 * canonical JSON), so a long replay's findings are not held as text.
 */
export class FindingsDigester extends Writable {
  private readonly digests = new Map<string, string>();
  private pending = '';

  constructor(readonly canonical?: Map<string, string>) {
    super({
      write: (chunk: Buffer | string, _encoding, done) => {
        try {
          this.pending += chunk.toString();
          const lines = this.pending.split('\n');
          this.pending = lines.pop() ?? '';
          for (const line of lines) this.addLine(line);
          done();
        } catch (error) {
          done(error as Error);
        }
      },
    });
  }

  addLine(line: string): void {
    if (line.trim() === '') return;
    const finding = JSON.parse(line) as Record<string, unknown>;
    const id = String(finding['id']);
    if (this.digests.has(id)) throw new Error(`replay --json printed finding ${id} twice`);
    const text = canonicalFinding(finding);
    this.digests.set(id, sha256(text).slice(0, 16));
    this.canonical?.set(id, text);
  }

  result(counts: RunCounts, input: string): HistoryDigest {
    this.addLine(this.pending);
    this.pending = '';
    const ids = [...this.digests.keys()].sort();
    const byId: Record<string, string> = {};
    for (const id of ids) byId[id] = this.digests.get(id) ?? '';
    return { input, counts, findings: sha256(ids.map((id) => `${id} ${byId[id]}`).join('\n')), byId };
  }
}

/** Digest of the findings of one replay (JSON lines of `replay --json`) and its counts. */
export function digestFindings(jsonLines: string, counts: RunCounts, input: string): { digest: HistoryDigest; canonical: Map<string, string> } {
  const canonical = new Map<string, string>();
  const digester = new FindingsDigester(canonical);
  for (const line of jsonLines.split('\n')) digester.addLine(line);
  return { digest: digester.result(counts, input), canonical };
}

/** The counts a digest pins, from a replay's stats. */
export function runCounts(stats: ReplayStats): RunCounts {
  return {
    events: stats.events,
    alerts: stats.alerts,
    attestations: stats.attestations,
    duplicates: stats.duplicates,
    deduplicated: stats.deduplicated,
    heldBack: stats.heldBack,
    problems: stats.problems.length,
  };
}

/** sha256 over the files of a history, in the lexical order the replay reads them. */
export function digestInput(dir: string): string {
  const hash = createHash('sha256');
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder).sort()) {
      const path = join(folder, entry);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(`${relative(dir, path)}\n`).update(readFileSync(path)).update('\n');
    }
  };
  walk(dir);
  return hash.digest('hex');
}

const discard = (): Writable => new Writable({ write: (_chunk, _encoding, done) => done() });

/** Replays a history through the CLI's replay path (`replay --json`, kind all) and digests what it found. */
export async function replayAndDigest(paths: readonly string[], inputDir: string, recorded?: string): Promise<ReplayedHistory> {
  const canonical = new Map<string, string>();
  const digester = new FindingsDigester(canonical);
  const { stats } = await runReplay(paths, { json: true, kind: 'all', progress: false, ...(recorded ? { recorded } : {}) }, { stdout: digester, stderr: discard() });
  return { digest: digester.result(runCounts(stats), digestInput(inputDir)), canonical, stats };
}

/** Writes a generated history as day folders (cloudtrail.json, eventbridge.jsonl) under dir; returns the folders. */
export function writeGeneratedHistory(dir: string, options: HistoryOptions): string[] {
  return generateHistory(options).map((day) => {
    const folder = join(dir, day.date);
    mkdirSync(folder, { recursive: true });
    for (const file of sampleFiles(day)) writeFileSync(join(folder, file.name), file.text);
    return folder;
  });
}

export interface Difference {
  readonly id: string;
  readonly change: 'changed' | 'missing' | 'new';
}

/** The findings whose digests differ between two runs, in id order. */
export function differences(expected: HistoryDigest, actual: HistoryDigest): Difference[] {
  const ids = [...new Set([...Object.keys(expected.byId), ...Object.keys(actual.byId)])].sort();
  const found: Difference[] = [];
  for (const id of ids) {
    const before = expected.byId[id];
    const after = actual.byId[id];
    if (before === after) continue;
    found.push({ id, change: before === undefined ? 'new' : after === undefined ? 'missing' : 'changed' });
  }
  return found;
}

/** The histories whose findings test/fixtures/findings-digests.json pins. */
export interface DigestHistory {
  readonly name: string;
  /** A committed history (relative to the repository), replayed with its recorded look-ups… */
  readonly dir?: string;
  readonly recorded?: string;
  /** …or one generated like the bench's (written to a temporary directory). */
  readonly generate?: HistoryOptions;
}

export const DIGEST_HISTORIES: readonly DigestHistory[] = [
  { name: 'samples/history', dir: 'samples/history', recorded: 'samples/.recorded' },
  // Bench-style (seed 7, no attack; the learning period ends on day 15), small enough for a quick test.
  { name: 'generated 28 days x scale 1', generate: { startDate: '2026-10-01', days: 28, seed: 7, scale: 1, attack: false } },
];

export const DIGESTS_FILE = 'test/fixtures/findings-digests.json';

/** Replays one of DIGEST_HISTORIES (root: the repository) and digests its findings. */
export async function replayDigestHistory(history: DigestHistory, root: string): Promise<ReplayedHistory> {
  if (history.dir) {
    const dir = join(root, history.dir);
    return replayAndDigest([dir], dir, history.recorded ? join(root, history.recorded) : undefined);
  }
  if (!history.generate) throw new Error(`${history.name}: neither a directory nor generator options`);
  const dir = mkdtempSync(join(tmpdir(), 'buildwatch-digest-'));
  try {
    const folders = writeGeneratedHistory(dir, history.generate);
    return await replayAndDigest(folders, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** How to look at a history's findings by hand (for failure messages). */
export function inspectHint(history: DigestHistory): string {
  return history.dir
    ? `node bin/buildwatch.mjs replay ${history.dir}${history.recorded ? ` --recorded ${history.recorded}` : ''} --json | grep ID`
    : `npm run digests -- --show "${history.name}" ID`;
}

/** A readable account of how a run differs from the pinned digest ('' when it does not). */
export function describeChange(history: DigestHistory, expected: HistoryDigest | undefined, actual: HistoryDigest): string {
  if (!expected) return `${history.name}: no pinned digest (run \`npm run digests -- --write\`)`;
  if (expected.findings === actual.findings && canonicalJson(expected.counts) === canonicalJson(actual.counts)) return '';
  const lines = [`${history.name}: the findings changed`];
  if (expected.input !== actual.input) lines.push(`  its input changed too (${history.dir ? history.dir : 'samples/generate-history.ts'}): new findings may be expected`);
  if (canonicalJson(expected.counts) !== canonicalJson(actual.counts)) lines.push(`  counts: pinned ${canonicalJson(expected.counts)}\n          now    ${canonicalJson(actual.counts)}`);
  const diff = differences(expected, actual);
  if (diff.length > 0) {
    lines.push(`  ${diff.length} finding(s) differ; the first: ${diff.slice(0, 8).map((d) => `${d.id} (${d.change})`).join(', ')}`);
    lines.push(`  inspect: ${inspectHint(history)}`);
  }
  lines.push('  if the change is intended: npm run digests -- --write, and say why in the commit');
  return lines.join('\n');
}
