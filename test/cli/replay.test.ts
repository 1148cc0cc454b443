import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runReplay } from '../../bin/commands/replay.js';
import { capture, jsonLines } from '../support/capture.js';
import { tempDir } from '../support/temp-dirs.js';

const CASES = join(import.meta.dirname, '..', '..', 'lambdas', 'use-cases');
const stopLoggingCase = JSON.parse(readFileSync(join(CASES, 'monitor/cloudtrail-tamper/cases/stop-logging.json'), 'utf8')) as { events: { detail: Record<string, unknown> }[] };
const pushCase = JSON.parse(readFileSync(join(CASES, 'source/new-pusher/cases/new-principal-after-learning.json'), 'utf8')) as { history: unknown[]; events: unknown[] };


function workdir(): string {
  return tempDir('buildwatch-replay-');
}


describe('buildwatch replay', () => {
  it('prints one finding per line with the contract fields; a bare CloudTrail record keeps its eventID', async () => {
    const dir = workdir();
    // A CloudTrail S3 log file with the bare record, gzipped, as trails deliver them.
    const record = stopLoggingCase.events[0]!.detail;
    writeFileSync(join(dir, 'trail.json.gz'), gzipSync(JSON.stringify({ Records: [record] })));
    const { io, out, err } = capture();
    const { exitCode } = await runReplay([dir], { json: true, config: join(dir, 'nonexistent.json') }, io);
    // A missing explicit config is an error: exit 2, nothing processed.
    expect(exitCode).toBe(2);
    expect(err()).toMatch(/configuration file not found/);
    expect(out()).toBe('');

    const second = capture();
    const result = await runReplay([dir], { json: true }, second.io);
    expect(result.exitCode).toBe(0);
    const findings = jsonLines(second.out());
    expect(findings).toHaveLength(1);
    const finding = findings[0]!;
    for (const field of ['id', 'useCase', 'answers', 'stage', 'severity', 'mode', 'eventId', 'eventTime', 'principal', 'summary']) expect(finding).toHaveProperty(field);
    expect(finding).toMatchObject({ useCase: 'monitor.cloudtrail-tamper', answers: 'monitor.tamper', stage: 'monitor', severity: 'critical', mode: 'alert', eventId: record['eventID'] });
    expect(second.err()).toContain('CloudTrail logging stopped');
  });

  it('adds no finding when the same input is replayed twice in one run', async () => {
    const dir = workdir();
    const file = join(dir, 'pushes.json');
    writeFileSync(file, JSON.stringify([...pushCase.history, ...pushCase.events, ...stopLoggingCase.events]));
    const once = capture();
    const single = await runReplay([file], { json: true }, once.io);
    const findings = jsonLines(once.out()).length;
    expect(findings).toBeGreaterThanOrEqual(2);

    const twice = capture();
    const { exitCode, stats } = await runReplay([file, file], { json: true }, twice.io);
    expect(exitCode).toBe(0);
    // Every finding is rebuilt on the second pass (same ids) and stopped by the ledger's conditional put.
    expect(jsonLines(twice.out()).length).toBe(findings);
    expect(stats.duplicates).toBe(findings);
    expect(stats.alerts).toBe(single.stats.alerts);
  });

  it('names a malformed or truncated file in one line and still processes the other inputs', async () => {
    const dir = workdir();
    writeFileSync(join(dir, 'a-broken.json'), '{"Records": [');
    writeFileSync(join(dir, 'b-truncated.json.gz'), gzipSync(JSON.stringify({ Records: [] })).subarray(0, 12));
    writeFileSync(join(dir, 'c-unknown.json'), JSON.stringify({ hello: 'world' }));
    writeFileSync(join(dir, 'd-good.json'), JSON.stringify(stopLoggingCase.events));
    const { io, out, err } = capture();
    const { exitCode } = await runReplay([dir], { json: true }, io);
    expect(exitCode).toBe(1);
    expect(jsonLines(out())).toHaveLength(1);
    const reasons = err().split('\n').filter((line) => line.startsWith('buildwatch: ') && !line.includes('replayed'));
    expect(reasons).toHaveLength(3);
    expect(reasons[0]).toContain('a-broken.json');
    expect(reasons[1]).toContain('b-truncated.json.gz');
    expect(reasons[2]).toContain('c-unknown.json');
  });

  it('--kind alerts|attestations|all chooses what --json prints (default all); the summary counts in good English', async () => {
    const dir = workdir();
    const file = join(dir, 'events.json');
    writeFileSync(file, JSON.stringify([...pushCase.history, ...pushCase.events, ...stopLoggingCase.events]));
    const config = join(dir, 'attest.config.json');
    writeFileSync(config, JSON.stringify({ useCases: { 'monitor.cloudtrail-tamper': { mode: 'attest' } } }));
    const modes = async (kind?: 'alerts' | 'attestations' | 'all') => {
      const c = capture();
      const { exitCode } = await runReplay([file], { json: true, config, ...(kind ? { kind } : {}) }, c.io);
      expect(exitCode, c.err()).toBe(0);
      return { modes: jsonLines(c.out()).map((f) => `${String(f['mode'])} ${String(f['useCase'])}`), err: c.err() };
    };
    const all = await modes();
    expect(all.modes).toContain('attest monitor.cloudtrail-tamper');
    expect(all.modes.some((m) => m.startsWith('alert '))).toBe(true);
    expect((await modes('all')).modes).toEqual(all.modes);
    const alerts = await modes('alerts');
    expect(alerts.modes).toEqual(all.modes.filter((m) => m.startsWith('alert ')));
    const attestations = await modes('attestations');
    expect(attestations.modes).toEqual(all.modes.filter((m) => !m.startsWith('alert ')));
    // stderr is the same whatever --kind: alerts for people, and the summary.
    expect(alerts.err).toBe(all.err);
    expect(all.err).toMatch(/, 1 attestation, 0 repeats ignored\n$/);

    const bad = capture();
    expect((await runReplay([file], { json: true, kind: 'findings' as 'all' }, bad.io)).exitCode).toBe(2);
    expect(bad.err()).toContain('--kind: one of alerts, attestations, all');

    const twice = capture();
    const stop = join(dir, 'stop.json');
    writeFileSync(stop, JSON.stringify(stopLoggingCase.events));
    await runReplay([stop, stop], {}, twice.io);
    expect(twice.err()).toContain('buildwatch: replayed 2 events from 2 files: 1 alert, 0 attestations, 1 repeat ignored\n');
  });

  it('says how many files of a directory it skipped because of their names', async () => {
    const dir = workdir();
    writeFileSync(join(dir, 'events.json'), JSON.stringify(stopLoggingCase.events));
    writeFileSync(join(dir, 'README.md'), '# notes');
    writeFileSync(join(dir, 'trail.log'), 'not events');
    const { io, err } = capture();
    const { exitCode, stats } = await runReplay([dir], {}, io);
    expect(exitCode).toBe(0);
    expect(stats.files).toBe(1);
    expect(err()).toContain(`buildwatch: skipped 2 files not named .json, .jsonl, .ndjson or .gz: ${join(dir, 'README.md')}, ${join(dir, 'trail.log')}\n`);
  });

  it('replays a copy of a trail bucket (aws s3 sync): its digest folder is skipped and said, not read as problems', async () => {
    const dir = workdir();
    const account = join(dir, 'AWSLogs', '123456789012');
    const logs = join(account, 'CloudTrail', 'us-east-1', '2026', '11', '02');
    const digests = join(account, 'CloudTrail-Digest', 'us-east-1', '2026', '11', '02');
    mkdirSync(logs, { recursive: true });
    mkdirSync(digests, { recursive: true });
    writeFileSync(join(logs, '123456789012_CloudTrail_us-east-1_20261102T1005Z_a1.json'), JSON.stringify({ Records: stopLoggingCase.events.map((event) => event.detail) }));
    for (const hour of ['10', '11']) {
      writeFileSync(join(digests, `123456789012_CloudTrail-Digest_us-east-1_trail_us-east-1_20261102T${hour}0000Z.json`), JSON.stringify({ awsAccountId: '123456789012', digestStartTime: `2026-11-02T${hour}:00:00Z`, logFiles: [] }));
    }
    const { io, err } = capture();
    const { exitCode, stats } = await runReplay([dir], {}, io);
    expect(exitCode).toBe(0);
    expect(stats.problems).toEqual([]);
    expect(stats.alerts).toBe(1);
    expect(err()).toContain(`buildwatch: skipped 1 folder of a trail bucket with no events (CloudTrail-Digest, CloudTrail-Insight, other services' logs): ${join(account, 'CloudTrail-Digest')}\n`);
  });

  it('replays a log file holding a CloudTrail Insights event: the event is ignored and said, the run exits 0', async () => {
    const dir = workdir();
    const insight = { eventVersion: '1.08', eventTime: '2026-11-02T10:30:00Z', awsRegion: 'us-east-1', eventID: 'insight-1', eventType: 'AwsCloudTrailInsight', recipientAccountId: '123456789012', insightDetails: { state: 'Start', eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging', insightType: 'ApiCallRateInsight' }, eventCategory: 'Insight' };
    const file = join(dir, 'trail.json');
    writeFileSync(file, JSON.stringify({ Records: [...stopLoggingCase.events.map((event) => event.detail), insight] }));
    const { io, err } = capture();
    const { exitCode, stats } = await runReplay([file], {}, io);
    expect(exitCode).toBe(0);
    expect(stats.problems).toEqual([]);
    expect(stats.alerts).toBe(1);
    expect(err()).toContain(`buildwatch: ignored 1 CloudTrail Insights event (API call or error rates, not API calls) in ${file}\n`);
  });

  it('rejects a configuration naming an unknown use case, naming it', async () => {
    const dir = workdir();
    const config = join(dir, 'buildwatch.config.json');
    writeFileSync(config, JSON.stringify({ useCases: { 'source.new-pushr': { mode: 'off' } } }));
    const { io, err } = capture();
    const { exitCode } = await runReplay([dir], { config }, io);
    expect(exitCode).toBe(2);
    expect(err().trim()).toBe(`buildwatch: ${config}: configuration names unknown use case(s): source.new-pushr (did you mean "source.new-pusher"?)`);
  });

  it('rejects an invalid configuration field, naming it', async () => {
    const dir = workdir();
    const config = join(dir, 'buildwatch.config.json');
    writeFileSync(config, JSON.stringify({ defaults: { learningDays: 'two weeks' } }));
    const { io, err } = capture();
    expect((await runReplay([dir], { config }, io)).exitCode).toBe(2);
    expect(err()).toContain('defaults.learningDays');
  });

  it('runs as a command: JSON Lines on stdout, people-facing text on stderr', async () => {
    const dir = workdir();
    writeFileSync(join(dir, 'events.json'), JSON.stringify(stopLoggingCase.events));
    const root = join(import.meta.dirname, '..', '..');
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(root, 'bin', 'buildwatch.mjs'), 'replay', dir, '--json'], { cwd: dir });
    expect(jsonLines(stdout)).toHaveLength(1);
    expect(stderr).toContain('replayed 1 event from 1 file');
    expect(stderr).not.toContain('NodeVersionSupportWarning');
  });
});

describe('buildwatch replay: one incident, one alert per question', () => {
  it('folds the library-change and compromised-package findings of one build into one alert; --json keeps both', async () => {
    const jump = JSON.parse(readFileSync(join(CASES, 'dependencies/library-change/cases/component-count-jump.json'), 'utf8')) as { config: unknown; history: unknown[]; events: Array<Record<string, unknown>> };
    // The jump's build, with an SBOM that also lists debug@4.4.2 (the 2025 "qix" phishing wave).
    const bad = JSON.parse(JSON.stringify(jump.events[0]).replaceAll('6cb5da3b-de26-5065-bb5d-cfc3d4c0e4e2', '0b5e1a11-0000-4000-8000-000000000209')) as Record<string, unknown>;
    const dir = workdir();
    const config = join(dir, 'buildwatch.config.json');
    writeFileSync(config, JSON.stringify(jump.config));
    const history = join(dir, 'builds.json');
    writeFileSync(history, JSON.stringify([...jump.history, bad]));
    const run = capture();
    const { exitCode } = await runReplay([history], { json: true, config, recorded: join(CASES, 'dependencies', 'recorded') }, run.io);
    expect(exitCode).toBe(0);
    const findings = jsonLines(run.out()) as Array<{ useCase: string; mode: string; answers: string }>;
    expect(findings.filter((f) => f.mode === 'alert').map((f) => f.useCase).sort()).toEqual(['dependencies.compromised-package', 'dependencies.library-change']);
    const printed = run.err();
    // One alert block (one severity head line), carrying both aspects.
    expect(printed.match(/^(CRITICAL|HIGH|MEDIUM|LOW) /gm)).toHaveLength(1);
    expect(printed).toContain('ships known-compromised package versions');
    expect(printed).toContain('component count 36 → 57');
  });
});
