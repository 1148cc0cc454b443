import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { runBackfillCommand } from '../../bin/commands/backfill.js';
import { localDynamoClient } from '../../lambdas/store/dynamo-clients.js';
import { ensureTables, LOCAL_TABLE_NAMES } from '../../lambdas/store/tables.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { at, capture, gitPush, workdir, writeArchive, writeConfig, type CloudTrailRecord } from './fixtures.js';

const local = useLocalDynamo();
const CONFIG = { pipeline: { repositories: ['payments-service'] } };

function history(): CloudTrailRecord[] {
  const records: CloudTrailRecord[] = [];
  for (let day = 1; day <= 20; day += 1) records.push(gitPush({ user: 'alice', time: at(day, 9) }));
  records.push(gitPush({ user: 'mallory', time: at(18, 23) }));
  return records;
}

async function failure(options: Parameters<typeof runBackfillCommand>[1], paths: string[] = []): Promise<{ exitCode: number; err: string }> {
  const run = capture();
  const { exitCode } = await runBackfillCommand(paths, { config: writeConfig(workdir(), CONFIG), ...options }, run.io, { env: {} });
  return { exitCode, err: run.err() };
}

describe('buildwatch backfill (command line)', () => {
  it('says in one line what is missing or wrong in the arguments (exit 2)', async () => {
    const archive = workdir();
    expect(await failure({}, [archive])).toEqual({ exitCode: 2, err: expect.stringMatching(/^buildwatch: backfill writes baselines to a state store: give --endpoint URL .* or use --what-if to backtest against a throw-away store\n$/) });
    expect((await failure({ whatIf: true })).err).toMatch(/nothing to backfill from/);
    expect((await failure({ whatIf: true, lookupEvents: true })).err).toMatch(/--lookup-events needs a region/);
    expect((await failure({ whatIf: true, lookupEvents: true, region: ['eu-west-1'], days: '0' })).err).toMatch(/--days must be a whole number from 1 to 90, not 0/);
    expect((await failure({ whatIf: true, days: '10' }, [archive])).err).toMatch(/--days, --window-hours and --event-source apply to --lookup-events/);
    expect((await failure({ json: true, endpoint: 'http://127.0.0.1:1' }, [archive])).err).toMatch(/--json prints the --what-if report/);
    expect((await failure({ whatIf: true, resume: true }, [archive])).err).toMatch(/--resume needs the state the interrupted run wrote/);
    expect((await failure({ stateTable: 'a', tablePrefix: 'b-' }, [archive])).err).toMatch(/not both/);
  });

  it('writes state but no finding: the ledger stays empty, and the checkpoint is gone when done', async () => {
    const dir = workdir();
    const archive = join(dir, 'archive');
    writeArchive(archive, history());
    const checkpoint = join(dir, 'cp.json');
    const run = capture();
    const { exitCode, result } = await runBackfillCommand([archive], { config: writeConfig(dir, CONFIG), endpoint: local.endpoint(), checkpoint }, run.io);
    expect(exitCode).toBe(0);
    expect(result?.tallies.byUseCase['source.new-pusher']?.alerts).toBe(1);
    expect(run.out()).toBe('');
    const client = localDynamoClient(local.endpoint());
    try {
      expect((await client.send(new ScanCommand({ TableName: LOCAL_TABLE_NAMES.findings, Select: 'COUNT' }))).Count).toBe(0);
      expect((await client.send(new ScanCommand({ TableName: LOCAL_TABLE_NAMES.state, Select: 'COUNT' }))).Count).toBeGreaterThan(0);
    } finally {
      client.destroy();
    }
    expect(existsSync(checkpoint)).toBe(false);
    expect(existsSync(`${checkpoint}.pending.jsonl`)).toBe(false);
  });

  it('refuses to start over a checkpoint left by an interrupted run unless told to resume', async () => {
    const dir = workdir();
    const checkpoint = join(dir, 'cp.json');
    writeFileSync(checkpoint, '{}');
    const run = capture();
    const { exitCode } = await runBackfillCommand([dir], { config: writeConfig(dir, CONFIG), endpoint: local.endpoint(), checkpoint }, run.io);
    expect(exitCode).toBe(2);
    expect(run.err()).toMatch(/checkpoint .*cp\.json exists from an earlier run: pass --resume to continue it, or delete it to start over/);
    const resumed = capture();
    expect((await runBackfillCommand([dir], { config: writeConfig(dir, CONFIG), endpoint: local.endpoint(), checkpoint, resume: true }, resumed.io)).exitCode).toBe(2);
    expect(resumed.err()).toMatch(/is not a backfill checkpoint of this version/);
  });

  it('writes to a named state table, and names a table that is not there', async () => {
    const dir = workdir();
    const archive = join(dir, 'archive');
    writeArchive(archive, history());
    const config = writeConfig(dir, CONFIG);
    const missing = capture();
    expect((await runBackfillCommand([archive], { config, endpoint: local.endpoint(), tablePrefix: 'nope-' }, missing.io)).exitCode).toBe(2);
    expect(missing.err()).toMatch(/^buildwatch: cannot use state table nope-state \(from --table-prefix; the stack names it buildwatch-state\): ResourceNotFoundException/);

    const client = localDynamoClient(local.endpoint());
    await ensureTables(client, { state: 'acme-state', findings: 'acme-findings' });
    client.destroy();
    const run = capture();
    const { exitCode } = await runBackfillCommand([archive], { config, endpoint: local.endpoint(), stateTable: 'acme-state', checkpoint: join(dir, 'cp.json') }, run.io);
    expect(exitCode).toBe(0);
    expect(run.err()).toMatch(/into state table acme-state at http/);
  });

  it('runs as a command: the what-if report as JSON on stdout, the summary on stderr', async () => {
    const dir = workdir();
    writeArchive(join(dir, 'archive'), history());
    writeConfig(dir, CONFIG);
    const root = join(import.meta.dirname, '..', '..');
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(root, 'bin', 'buildwatch.mjs'), 'backfill', 'archive', '--what-if', '--json', '--top', '2'], { cwd: dir });
    const report = JSON.parse(stdout) as { events: number; useCases: Array<{ id: string; alerts: number; topPrincipals: unknown[] }> };
    expect(report.events).toBe(21);
    expect(report.useCases.find((u) => u.id === 'source.new-pusher')).toMatchObject({ alerts: 1, topPrincipals: [{ key: 'arn:aws:iam::111122223333:user/mallory', count: 1 }] });
    expect(stderr).toMatch(/^buildwatch: backfilled 21 events \(20 archive files\) into a throw-away embedded store/m);
    expect(stderr).not.toContain('NodeVersionSupportWarning');
  });
});
