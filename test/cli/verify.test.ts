/**
 * replay --keep → seal → export → verify, without AWS; then the table is tampered with and verify
 * names each edited or deleted record. Also the seal command and the exit codes (0, 1, 2).
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateTableCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { runExport } from '../../bin/commands/export.js';
import { runSealCommand } from '../../bin/commands/seal.js';
import { runVerify } from '../../bin/commands/verify.js';
import type { Finding } from '../../lambdas/engine/model.js';
import { LOCAL_KEY_FILE } from '../../lambdas/ledger/local-signer.js';
import { documentClient, localDynamoClient } from '../../lambdas/store/dynamo-clients.js';
import { startEmbeddedDynamo } from '../../lambdas/store/embedded-dynamo.js';
import { findingsTableInput, LOCAL_TABLE_NAMES } from '../../lambdas/store/tables.js';
import { record, records } from '../ledger/fixtures.js';
import { capture, copyOfSample, jsonLines, keptStorePath, keptStoreWith, ROOT, tempDir, withKeptStore } from './ledger-helpers.js';

const NOW = new Date('2026-11-25T12:00:00Z');
const FINDINGS = LOCAL_TABLE_NAMES.findings;

async function sealed(): Promise<string> {
  const keep = await copyOfSample();
  const c = capture();
  const { exitCode, outcomes } = await runSealCommand({ keep }, c.io);
  expect(exitCode, c.err()).toBe(0);
  expect(outcomes.map((o) => o.day)).toEqual(Array.from({ length: 28 }, (_, i) => `2026-10-${String(i + 1).padStart(2, '0')}`));
  expect(c.err()).toContain(`created a LOCAL seal key (not KMS) in ${join(keep, LOCAL_KEY_FILE)}`);
  return keep;
}

async function exportedDay(keep: string, day: string): Promise<Finding[]> {
  const c = capture();
  expect((await runExport({ keep, from: day, to: day }, c.io)).exitCode).toBe(0);
  return jsonLines(c.out()) as unknown as Finding[];
}

describe('buildwatch seal and verify, offline', () => {
  it('replay → seal → verify passes; after an edit and a delete in the table, verify names both (exit 1)', { timeout: 90_000 }, async () => {
    const keep = await sealed();
    const clean = capture();
    const ok = await runVerify({ keep, now: NOW }, clean.io);
    expect(ok.exitCode, clean.out()).toBe(0);
    expect(clean.out()).toBe('');
    expect(ok.report).toMatchObject({ from: '2026-10-01', to: '2026-11-25', sealedDays: 28, problems: [] });
    expect(clean.err()).toMatch(/verified 2026-10-01 to 2026-11-25: 56 days \(28 sealed\), \d+ records: no problems/);
    expect(clean.err()).toContain('sealed with a LOCAL key');

    const [edited, deleted] = await exportedDay(keep, '2026-10-25');
    await withKeptStore(keep, async ({ doc }) => {
      await doc.send(new UpdateCommand({ TableName: FINDINGS, Key: { id: edited!.id }, UpdateExpression: 'SET severity = :s', ExpressionAttributeValues: { ':s': 'info' } }));
      await doc.send(new DeleteCommand({ TableName: FINDINGS, Key: { id: deleted!.id } }));
    });
    const after = capture();
    expect((await runVerify({ keep, now: NOW }, after.io)).exitCode).toBe(1);
    expect(after.out().trim().split('\n').sort()).toEqual(
      [
        `2026-10-25 ${edited!.id} modified: content changed after sealing (its contentHash attribute still has the sealed value)`,
        expect.stringMatching(new RegExp(`^2026-10-25 ${deleted!.id} deleted: sealed on \\S+, no longer in the ledger$`)),
      ].sort(),
    );
    expect(after.err()).toContain('2 problem(s)');

    const json = capture();
    expect((await runVerify({ keep, now: NOW, json: true, from: '2026-10-25', to: '2026-10-25' }, json.io)).exitCode).toBe(1);
    const report = JSON.parse(json.out()) as { ok: boolean; problems: Array<{ id: string; kind: string }> };
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => [p.id, p.kind]).sort()).toEqual([[edited!.id, 'modified'], [deleted!.id, 'deleted']].sort());
  });

  it('a record inserted into a sealed day, and a forged seal, are named; a pinned public key is checked', async () => {
    const keep = await sealed();
    const key = JSON.parse(readFileSync(join(keep, LOCAL_KEY_FILE), 'utf8')) as { publicKeyPem: string };
    const pem = join(tempDir(), 'seal-key.pem');
    writeFileSync(pem, key.publicKeyPem);
    const pinned = capture();
    expect((await runVerify({ keep, now: NOW, publicKey: pem }, pinned.io)).exitCode).toBe(0);

    const other = join(tempDir(), 'other.pem');
    writeFileSync(other, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }));
    const wrong = capture();
    expect((await runVerify({ keep, now: NOW, publicKey: other, from: '2026-10-01', to: '2026-10-02' }, wrong.io)).exitCode).toBe(1);
    expect(wrong.out().trim().split('\n')).toEqual([
      expect.stringMatching(/^2026-10-01 - bad-signature: /),
      expect.stringMatching(/^2026-10-02 - bad-signature: /),
    ]);

    const planted = record({ id: 'planted0000000000000000000000000', eventTime: '2026-10-12T09:00:00Z', recordedAt: '2026-11-20T00:00:00Z' });
    await withKeptStore(keep, async ({ doc }) => {
      await doc.send(new PutCommand({ TableName: FINDINGS, Item: planted }));
    });
    const c = capture();
    expect((await runVerify({ keep, now: NOW, from: '2026-10-12', to: '2026-10-12' }, c.io)).exitCode).toBe(1);
    expect(c.out()).toMatch(/^2026-10-12 planted0000000000000000000000000 inserted: not in the seal of \S+ \(recordedAt 2026-11-20T00:00:00Z\)\n$/);
  });

  it('without seals: verify says nothing is protected (exit 1); days not sealed in time are named', async () => {
    const keep = await keptStoreWith([record()]);
    const none = capture();
    expect((await runVerify({ keep, now: NOW }, none.io)).exitCode).toBe(1);
    expect(none.out()).toMatch(/^2026-11-25 - no-seals: no seals in the store kept in /);
    // No seal key at all: nothing to pin, which is itself reported unless explicitly allowed.
    const range = capture();
    expect((await runVerify({ keep, now: NOW, from: '2026-10-25', to: '2026-10-25' }, range.io)).exitCode).toBe(1);
    expect(range.out()).toMatch(/^2026-10-25 - unpinned-key: no seal key pinned .*\n2026-10-25 - unsealed: 1 record\(s\) and no seal/);
    const recent = capture();
    expect((await runVerify({ keep, now: new Date('2026-10-26T06:00:00Z'), from: '2026-10-25', to: '2026-10-25', allowUnpinnedKey: true }, recent.io)).exitCode).toBe(0);
    expect(recent.err()).toContain('UNPINNED: seals were checked with whatever key they name');
    expect(recent.err()).toContain('not sealed yet (not due): 2026-10-25');
  });

  it('a store kept by an earlier version (findings indexed by the legacy byDay only) is sealed, exported and verified', async () => {
    const keep = join(tempDir(), 'kept');
    const items = records(130, ['2026-10-24', '2026-10-25']);
    const server = await startEmbeddedDynamo({ path: keptStorePath(keep) });
    const client = localDynamoClient(server.endpoint);
    try {
      // The layout of earlier versions: the by-day index named byDay, projecting every attribute.
      await client.send(new CreateTableCommand(findingsTableInput(FINDINGS, [{ name: 'byDay', projection: 'ALL' }])));
      await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1 }, { TableName: FINDINGS });
      const doc = documentClient(client);
      for (const item of items) await doc.send(new PutCommand({ TableName: FINDINGS, Item: item }));
    } finally {
      client.destroy();
      await server.close();
    }
    const seal = capture();
    const sealedDays = await runSealCommand({ keep, from: '2026-10-24', to: '2026-10-25', json: true }, seal.io);
    expect(sealedDays.exitCode, seal.err()).toBe(0);
    expect(sealedDays.outcomes.map((o) => `${o.day} ${o.status} ${o.count}`)).toEqual(['2026-10-24 sealed 65', '2026-10-25 sealed 65']);
    const exported = [...(await exportedDay(keep, '2026-10-24')), ...(await exportedDay(keep, '2026-10-25'))];
    expect(exported.map((f) => f.id).sort()).toEqual(items.map((f) => f.id).sort());
    const check = capture();
    expect((await runVerify({ keep, now: NOW, from: '2026-10-24', to: '2026-10-25' }, check.io)).exitCode, check.out()).toBe(0);
    expect(check.err()).toMatch(/130 records: no problems/);
  });

  it('seal: only days asked for, never twice; bad usage exits 2', async () => {
    const keep = await keptStoreWith([record(), record({ id: 'second00000000000000000000000000', eventTime: '2026-10-27T01:00:00Z' })]);
    const one = capture();
    const first = await runSealCommand({ keep, day: '2026-10-25', json: true }, one.io);
    expect(first.exitCode).toBe(0);
    expect(jsonLines(one.out())).toEqual([expect.objectContaining({ day: '2026-10-25', status: 'sealed', count: 1 })]);
    const all = capture();
    const second = await runSealCommand({ keep }, all.io);
    expect(second.outcomes.map((o) => `${o.day} ${o.status} ${o.count}`)).toEqual(['2026-10-25 already-sealed 1', '2026-10-26 sealed 0', '2026-10-27 sealed 1']);
    expect(all.err()).not.toContain('created a LOCAL seal key'); // the key made by the first run is reused
    expect((await runVerify({ keep, now: NOW }, capture().io)).exitCode).toBe(0);

    for (const [options, reason] of [
      [{}, /seal works on a local ledger/],
      [{ endpoint: 'http://127.0.0.1:1' }, /--key-file/],
      [{ keep, day: '2026-10-25', from: '2026-10-25' }, /give --day, or --from and --to/],
      [{ keep, from: '2026-10-25' }, /both --from and --to/],
      [{ keep, day: 'yesterday' }, /--day: expected a UTC day/],
    ] as const) {
      const c = capture();
      expect((await runSealCommand(options, c.io)).exitCode, JSON.stringify(options)).toBe(2);
      expect(c.err()).toMatch(reason);
    }
  });

  it('verify: bad usage exits 2 with one line', async () => {
    const keep = await keptStoreWith([record()]);
    for (const [options, reason] of [
      [{ keep, from: '2026-13-01' }, /--from: expected a UTC day/],
      [{ keep, from: '2026-10-02', to: '2026-10-01' }, /is after/],
      [{ keep, publicKey: join(tempDir(), 'missing.pem') }, /no such public key file/],
      [{ keep, publicKey: join(ROOT, 'package.json') }, /not an ECDSA P-256 public key/],
      [{ keep, keyFile: join(tempDir(), 'missing.json') }, /no such key file/],
      [{ keep: join(tempDir(), 'empty') }, /no kept store here/],
    ] as const) {
      const c = capture();
      expect((await runVerify({ ...options, now: NOW }, c.io)).exitCode, JSON.stringify(options)).toBe(2);
      expect(c.err().trim().split('\n')).toHaveLength(1);
      expect(c.err()).toMatch(reason);
    }
  });

  it('runs as commands: seal, then verify exits 0, 1 after tampering, 2 on bad usage', { timeout: 90_000 }, async () => {
    const keep = await copyOfSample();
    const run = promisify(execFile);
    const cli = join(ROOT, 'bin', 'buildwatch.mjs');
    const sealRun = await run(process.execPath, [cli, 'seal', '--keep', keep, '--from', '2026-10-20', '--to', '2026-10-26']);
    expect(sealRun.stderr).toMatch(/sealed 7 day\(s\)/);
    const ok = await run(process.execPath, [cli, 'verify', '--keep', keep, '--from', '2026-10-20', '--to', '2026-10-26', '--json']);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, sealedDays: 7, problems: [] });
    const [victim] = await exportedDay(keep, '2026-10-23');
    await withKeptStore(keep, async ({ doc }) => {
      await doc.send(new DeleteCommand({ TableName: FINDINGS, Key: { id: victim!.id } }));
    });
    const failed = await run(process.execPath, [cli, 'verify', '--keep', keep, '--from', '2026-10-20', '--to', '2026-10-26']).catch((error: { code: number; stdout: string }) => error);
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stdout: string }).stdout).toContain(`2026-10-23 ${victim!.id} deleted`);
    const usage = await run(process.execPath, [cli, 'verify', '--keep', keep, '--no-such-option']).catch((error: { code: number }) => error);
    expect(usage).toMatchObject({ code: 2 });
  });
});
