import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { runExport } from '../../bin/commands/export.js';
import { runReplay } from '../../bin/commands/replay.js';
import { canonicalJson, contentHashOf } from '../../lambdas/engine/canonical.js';
import { CSV_COLUMNS } from '../../lambdas/ledger/formats.js';
import { LOCAL_TABLE_NAMES } from '../../lambdas/store/tables.js';
import { record, records } from '../ledger/fixtures.js';
import { capture, copyOfSample, jsonLines, keptStoreWith, replayedSample, ROOT, tempDir, withKeptStore } from './ledger-helpers.js';

const SAMPLE = { from: '2026-10-01', to: '2026-10-28' };

describe('buildwatch export', () => {
  it('exports a replay kept with --keep in every format, the same records each time', { timeout: 90_000 }, async () => {
    const keep = await replayedSample();
    const run = async (format: string, kind?: string) => {
      const c = capture();
      const { exitCode } = await runExport({ keep, ...SAMPLE, format, ...(kind ? { kind } : {}) }, c.io);
      expect(exitCode, c.err()).toBe(0);
      return c;
    };
    const jsonl = jsonLines((await run('jsonl')).out());
    expect(jsonl.length).toBeGreaterThan(100);
    // Every exported record recomputes to its content hash: JSON Lines is the verifiable format.
    for (const item of jsonl) expect(contentHashOf(item)).toBe(item['contentHash']);
    const alerts = jsonl.filter((item) => item['mode'] === 'alert');
    const attestations = jsonl.filter((item) => item['mode'] === 'attest');
    expect(alerts.length).toBeGreaterThan(0);
    expect(attestations.length).toBeGreaterThan(0);
    // Day by day, in event-time order within a day.
    const keys = jsonl.map((item) => `${String(item['day'])} ${String(item['eventTime'])}`);
    expect(keys).toEqual([...keys].sort());

    const csv = (await run('csv')).out().split('\r\n');
    expect(csv[0]).toBe(CSV_COLUMNS.join(','));
    expect(csv.at(-1)).toBe('');
    expect(csv.filter((line) => /^[0-9a-f]{32},2026-10-/.test(line))).toHaveLength(jsonl.length);

    const ocsf = jsonLines((await run('ocsf')).out());
    expect(ocsf.map((event) => (event['finding_info'] as { uid: string }).uid)).toEqual(jsonl.map((item) => item['id']));
    expect(new Set(ocsf.map((event) => `${String(event['class_uid'])}/${String(event['type_uid'])}`))).toEqual(new Set(['2004/200401']));

    const findingsOnly = jsonLines((await run('jsonl', 'findings')).out());
    expect(findingsOnly.map((item) => item['id'])).toEqual(alerts.map((item) => item['id']));

    const intoto = await run('intoto');
    const statements = jsonLines(intoto.out());
    expect(statements.map((st) => (st['subject'] as Array<{ digest: { sha256: string } }>)[0]!.digest.sha256)).toEqual(attestations.map((item) => item['contentHash']));
    for (const statement of statements) {
      const { contentHash, ...content } = statement['predicate'] as Record<string, unknown>;
      expect(createHash('sha256').update(canonicalJson(content)).digest('hex')).toBe(contentHash);
    }
    expect(intoto.err()).toMatch(new RegExp(`exported ${attestations.length} attestations \\(intoto\\) of 28 days`));
  });

  it('streams with bounded memory: it waits for a slow reader instead of buffering the range', async () => {
    const many = records(1500, ['2026-10-20', '2026-10-21'], () => ({ evidence: { padding: 'x'.repeat(600) } }));
    const keep = join(tempDir(), 'kept');
    await withKeptStore(keep, async (stores) => {
      for (let i = 0; i < many.length; i += 25) {
        await stores.doc.send(new BatchWriteCommand({ RequestItems: { [LOCAL_TABLE_NAMES.findings]: many.slice(i, i + 25).map((item) => ({ PutRequest: { Item: item } })) } }));
      }
    });
    const highWaterMark = 16 * 1024;
    const stdout = new PassThrough({ highWaterMark });
    const stderr = new PassThrough();
    const done = runExport({ keep, from: '2026-10-20', to: '2026-10-21' }, { stdout, stderr });
    // Nobody reads yet: the export must stall with about one high-water mark buffered, not ~1.8 MB.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(stdout.writableLength).toBeLessThan(highWaterMark + 4 * 1024);
    let lines = 0;
    stdout.on('data', (chunk: Buffer) => {
      lines += chunk.toString().split('\n').length - 1;
    });
    expect((await done).exitCode).toBe(0);
    expect(lines).toBe(1500);
  });

  it('warns about exported records whose content does not match their contentHash', async () => {
    const keep = await keptStoreWith([record(), { ...record({ id: 'edited-0000000000000000000000000' }), summary: 'changed after hashing' }]);
    const c = capture();
    expect((await runExport({ keep, from: '2026-10-25', to: '2026-10-25' }, c.io)).exitCode).toBe(0);
    expect(jsonLines(c.out())).toHaveLength(2);
    expect(c.err()).toContain('warning: 1 exported record(s) do not match their contentHash (run `buildwatch verify`): edited-0000000000000000000000000');
  });

  it('replay --keep reuses a kept store (state and ledger carry over), refuses --endpoint with it and a store in use', async () => {
    const keep = await copyOfSample();
    // The same day again: every finding is rebuilt and stopped by the kept ledger; no new alert.
    const again = capture();
    const { exitCode, stats } = await runReplay([join(ROOT, 'samples', 'history', '2026-10-25')], { keep, config: join(ROOT, 'buildwatch.config.json') }, again.io);
    expect(exitCode).toBe(0);
    expect(stats.alerts + stats.attestations).toBe(0);
    expect(stats.duplicates).toBeGreaterThan(0);
    const both = capture();
    expect((await runReplay([join(ROOT, 'samples', 'history', '2026-10-25')], { keep, endpoint: 'http://127.0.0.1:1' }, both.io)).exitCode).toBe(2);
    expect(both.err()).toMatch(/--keep and --endpoint are exclusive/);
    await withKeptStore(keep, async () => {
      const busy = capture();
      expect((await runExport({ keep, from: '2026-10-01', to: '2026-10-01' }, busy.io)).exitCode).toBe(2);
      expect(busy.err()).toMatch(/is already open in this process/);
    });
  });

  it('exit 2 with a one-line reason on bad usage', async () => {
    const keep = await copyOfSample();
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ keep, to: '2026-10-02' }, /needs --from/],
      [{ keep, from: '2026-10-32', to: '2026-11-01' }, /--from: expected a UTC day/],
      [{ keep, from: '2026-10-05', to: '2026-10-01' }, /is after/],
      [{ keep, ...SAMPLE, format: 'xml' }, /--format: one of jsonl, csv, ocsf, intoto/],
      [{ keep, ...SAMPLE, format: 'intoto', kind: 'findings' }, /in-toto/],
      [{ keep: join(tempDir(), 'nothing-here'), ...SAMPLE }, /no kept store here/],
      [{ keep, endpoint: 'http://127.0.0.1:1', ...SAMPLE }, /exclusive/],
      [{ keep, region: 'eu-west-1', ...SAMPLE }, /deployed tables in AWS/],
    ];
    for (const [options, reason] of cases) {
      const c = capture();
      expect((await runExport(options, c.io)).exitCode, JSON.stringify(options)).toBe(2);
      expect(c.err().trim().split('\n')).toHaveLength(1);
      expect(c.err()).toMatch(reason);
      expect(c.out()).toBe('');
    }
  });

  it('runs as a command: CSV on stdout; a bad option value exits 2', { timeout: 60_000 }, async () => {
    const keep = await copyOfSample();
    const run = promisify(execFile);
    const cli = join(ROOT, 'bin', 'buildwatch.mjs');
    const { stdout, stderr } = await run(process.execPath, [cli, 'export', '--keep', keep, '--from', '2026-10-25', '--to', '2026-10-25', '--format', 'csv', '--kind', 'findings']);
    expect(stdout.split('\r\n')[0]).toBe(CSV_COLUMNS.join(','));
    expect(stderr).toMatch(/exported \d+ findings \(csv\) of 1 days/);
    const bad = await run(process.execPath, [cli, 'export', '--keep', keep, '--from', '2026-10-25', '--to', '2026-10-25', '--format', 'xml']).catch((error: { code: number; stderr: string }) => error);
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stderr: string }).stderr).toMatch(/--format/);
  });
});
