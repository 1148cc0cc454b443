/**
 * What verify must not trust (issue 13, defect 9): a seal key nobody pinned, a chain whose newest
 * seals were deleted with their records, and records outside the by-day index.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runSealCommand } from '../../bin/commands/seal.js';
import { runVerify } from '../../bin/commands/verify.js';
import { contentHashOf } from '../../lambdas/engine/canonical.js';
import { runSeal } from '../../lambdas/handlers/seal.js';
import { logger } from '../../lambdas/handlers/runtime.js';
import { HEAD_LOG_MESSAGE, LOCAL_HEAD_FILE, readHeadFile, scheduledSealedThrough } from '../../lambdas/ledger/chain-head.js';
import { LocalSigner, LOCAL_KEY_FILE } from '../../lambdas/ledger/local-signer.js';
import { ensureSealsTable, LOCAL_SEALS_TABLE, SealStore } from '../../lambdas/ledger/seal-store.js';
import { localDynamoClient } from '../../lambdas/store/dynamo-clients.js';
import { pinnedPublicKey, verifySignature } from '../../lambdas/ledger/signer.js';
import { verifyLedger } from '../../lambdas/ledger/verifier.js';
import { LOCAL_TABLE_NAMES } from '../../lambdas/store/tables.js';
import { record, records } from '../ledger/fixtures.js';
import { capture, keptStoreWith, tempDir, withKeptStore } from './ledger-helpers.js';

const NOW = new Date('2026-11-25T12:00:00Z');
const DAYS = ['2026-10-20', '2026-10-21', '2026-10-22'];
const FINDINGS = LOCAL_TABLE_NAMES.findings;
const KMS_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/0a1b2c3d-1111-4222-8333-444455556666';

async function sealedStore(): Promise<string> {
  const keep = await keptStoreWith(records(12, DAYS));
  const c = capture();
  expect((await runSealCommand({ keep }, c.io)).exitCode, c.err()).toBe(0);
  return keep;
}

async function deleteDay(keep: string, day: string): Promise<void> {
  await withKeptStore(keep, async ({ doc, findings }) => {
    const ids: string[] = [];
    for await (const item of findings.byDay(day)) ids.push(item.id);
    for (const id of ids) await doc.send(new DeleteCommand({ TableName: FINDINGS, Key: { id } }));
    await doc.send(new DeleteCommand({ TableName: LOCAL_SEALS_TABLE, Key: { pk: 'seal', sk: day } }));
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('verify pins the seal key by default', () => {
  it('a chain re-signed with another key fails by default (pinned to the local key file); --outputs pins the stack key', async () => {
    const keep = await sealedStore();
    const ok = capture();
    expect((await runVerify({ keep, now: NOW }, ok.io)).exitCode, ok.out()).toBe(0);
    expect(ok.err()).toContain(`seal key pinned by the local key file ${join(keep, LOCAL_KEY_FILE)}`);

    // The attacker edits a record, deletes every seal and re-seals the whole chain with their own key.
    const attackerKey = join(tempDir(), 'attacker.json');
    await withKeptStore(keep, async ({ doc }) => {
      const edited = record({ id: `r${'0'.repeat(31)}`, eventId: 'evt-0', eventTime: '2026-10-20T10:00:00Z', severity: 'info' });
      await doc.send(new PutCommand({ TableName: FINDINGS, Item: edited }));
      for (const day of DAYS) await doc.send(new DeleteCommand({ TableName: LOCAL_SEALS_TABLE, Key: { pk: 'seal', sk: day } }));
    });
    expect((await runSealCommand({ keep, keyFile: attackerKey }, capture().io)).exitCode).toBe(0);
    const attacker = LocalSigner.fromFile(attackerKey).signer.keyId;

    const caught = capture();
    expect((await runVerify({ keep, now: NOW }, caught.io)).exitCode).toBe(1);
    const lines = caught.out().trim().split('\n');
    for (const day of DAYS) expect(lines).toContain(`${day} - untrusted-key: signed by ${attacker}, not by the expected key ${LocalSigner.fromFile(join(keep, LOCAL_KEY_FILE)).signer.keyId}`);
    // The head kept when the real chain was sealed does not match the forged newest seal either.
    expect(lines.some((line) => line.startsWith('2026-10-22 - seal-replaced: the seal of 2026-10-22 is not the published chain head'))).toBe(true);

    const outputs = join(tempDir(), 'outputs.json');
    writeFileSync(outputs, JSON.stringify({ BuildwatchStack: { SealKeyArn: KMS_ARN, AlertsTopicArn: 'arn:aws:sns:eu-west-1:111122223333:x' } }));
    const stack = capture();
    expect((await runVerify({ keep, now: NOW, outputs, from: DAYS[0], to: DAYS[0] }, stack.io)).exitCode).toBe(1);
    expect(stack.out()).toContain(`2026-10-20 - untrusted-key: signed by ${attacker}, not by the expected key ${KMS_ARN}`);
    expect(stack.err()).toContain(`seal key pinned by the stack output SealKeyArn in ${outputs}: ${KMS_ARN}`);
  });

  it('an unpinned run says so and exits 1 unless --allow-unpinned-key', async () => {
    const keep = await sealedStore();
    // Seals made with a key file kept elsewhere: the store has no key to pin to.
    renameSync(join(keep, LOCAL_KEY_FILE), join(tempDir(), 'moved.json'));
    const unpinned = capture();
    const result = await runVerify({ keep, now: NOW, json: true }, unpinned.io);
    expect(result.exitCode).toBe(1);
    const report = JSON.parse(unpinned.out()) as { ok: boolean; pinnedKey: unknown; problems: Array<{ kind: string }> };
    expect(report.ok).toBe(false);
    expect(report.pinnedKey).toBeNull();
    expect(report.problems[0]?.kind).toBe('unpinned-key');
    const allowed = capture();
    // Allowed, but the seals name a local key nobody gave: each is unverifiable, and said to be unpinned.
    expect((await runVerify({ keep, now: NOW, allowUnpinnedKey: true }, allowed.io)).exitCode).toBe(1);
    expect(allowed.out()).not.toContain('unpinned-key');
    expect(allowed.err()).toContain('UNPINNED: seals were checked with whatever key they name');
  });
});

describe('verify reports truncation', () => {
  it('the newest seals deleted with their records: caught by the head file seal keeps, and by --expect-head', async () => {
    const keep = await sealedStore();
    const head = readHeadFile(join(keep, LOCAL_HEAD_FILE));
    expect(head?.day).toBe('2026-10-22');
    await deleteDay(keep, '2026-10-22');

    const byFile = capture();
    expect((await runVerify({ keep, now: NOW }, byFile.io)).exitCode).toBe(1);
    expect(byFile.out()).toBe(`2026-10-22 - truncated: the published chain head 2026-10-22:${head?.digest ?? ''} is gone; the chain now ends at 2026-10-21\n`);

    // Without the head the shorter chain is consistent in itself: verify passes but says what it cannot see.
    renameSync(join(keep, LOCAL_HEAD_FILE), join(tempDir(), 'head.json'));
    const blind = capture();
    expect((await runVerify({ keep, now: NOW }, blind.io)).exitCode).toBe(0);
    expect(blind.err()).toContain('no expected chain head: deleting the newest seals with their records is only caught with --expect-head');
    const explicit = capture();
    expect((await runVerify({ keep, now: NOW, expectHead: `2026-10-22:${head?.digest ?? ''}` }, explicit.io)).exitCode).toBe(1);
    expect(explicit.out()).toMatch(/^2026-10-22 - truncated: /);

    const bad = capture();
    expect((await runVerify({ keep, now: NOW, expectHead: '2026-10-22' }, bad.io)).exitCode).toBe(2);
    expect(bad.err()).toMatch(/--expect-head: a chain head is DAY:DIGEST/);
  });

  it('in AWS the daily schedule is the head: a chain ending before the last scheduled seal is truncated', async () => {
    const keep = await sealedStore();
    await deleteDay(keep, '2026-10-22');
    const key = LocalSigner.fromFile(join(keep, LOCAL_KEY_FILE)).signer;
    // Verified on 2026-10-25 at 12:00: 2026-10-22 settled on 10-24 at 02:00, so the daily run has
    // sealed it (with a day of slack for a failed run and its retries).
    const now = new Date('2026-10-25T12:00:00Z');
    expect(scheduledSealedThrough(now)).toBe('2026-10-22');
    const report = await withKeptStore(keep, async ({ doc, findings }) =>
      verifyLedger({ from: DAYS[0]!, to: '2026-10-25', findings, seals: new SealStore(doc, LOCAL_SEALS_TABLE), keys: pinnedPublicKey(await key.publicKey()), now, sealedThrough: scheduledSealedThrough(now) }),
    );
    expect(report.problems).toEqual([
      { day: '2026-10-22', kind: 'truncated', detail: expect.stringContaining('the chain ends at 2026-10-21, but the daily seal run seals every settled day (empty ones too) through 2026-10-22') },
    ]);
  });

  it('the seal Lambda logs the chain head with the signed payload that vouches for it', async () => {
    const keep = await keptStoreWith(records(4, ['2026-10-20']));
    const signer = LocalSigner.generate();
    const logged = vi.spyOn(logger, 'info').mockImplementation(() => undefined);
    await withKeptStore(keep, async ({ doc, findings, endpoint }) => {
      const admin = localDynamoClient(endpoint);
      await ensureSealsTable(admin, LOCAL_SEALS_TABLE);
      admin.destroy();
      await runSeal({ from: '2026-10-20', to: '2026-10-20' }, { findings, seals: new SealStore(doc, LOCAL_SEALS_TABLE), signer, now: NOW });
    });
    const call = logged.mock.calls.find(([message]) => message === HEAD_LOG_MESSAGE);
    const fields = call?.[1] as unknown as { head: string; payload: string; signature: string } | undefined;
    expect(fields?.head).toMatch(/^2026-10-20:[0-9a-f]{64}$/);
    expect(verifySignature(Buffer.from(fields?.payload ?? ''), Buffer.from(fields?.signature ?? '', 'base64'), await signer.publicKey())).toBe(true);
  });
});

describe('verify sees records outside the by-day index', () => {
  it('a record written without day, and one moved to a day nobody verifies, are named', async () => {
    const keep = await sealedStore();
    const { day: _day, contentHash: _hash, ...noDay } = record({ id: 'nodayxxxxxxxxxxxxxxxxxxxxxxxxxxx', eventTime: '2026-10-21T11:00:00Z' });
    const withoutDay = { ...noDay, contentHash: contentHashOf(noDay) };
    const { contentHash: _h, ...moved } = record({ id: 'movedxxxxxxxxxxxxxxxxxxxxxxxxxxx', eventTime: '2026-10-21T12:00:00Z', day: '1999-01-01' });
    await withKeptStore(keep, async ({ doc }) => {
      await doc.send(new PutCommand({ TableName: FINDINGS, Item: withoutDay }));
      await doc.send(new PutCommand({ TableName: FINDINGS, Item: { ...moved, contentHash: contentHashOf(moved) } }));
    });
    const c = capture();
    expect((await runVerify({ keep, now: NOW }, c.io)).exitCode).toBe(1);
    expect(c.out().trim().split('\n').sort()).toEqual([
      '2026-10-21 movedxxxxxxxxxxxxxxxxxxxxxxxxxxx unindexed: has day "1999-01-01" and eventTime "2026-10-21T12:00:00Z": no seal, export or by-day check of its day sees it',
      '2026-10-21 nodayxxxxxxxxxxxxxxxxxxxxxxxxxxx unindexed: has no day and eventTime "2026-10-21T11:00:00Z": no seal, export or by-day check of its day sees it',
    ]);
    expect(readFileSync(join(keep, LOCAL_HEAD_FILE), 'utf8')).toContain('2026-10-22');
  });

  it('on the cloud table, where the auditor may not scan, a by-day index smaller than the table is reported', async () => {
    const keep = await sealedStore();
    const key = LocalSigner.fromFile(join(keep, LOCAL_KEY_FILE)).signer;
    const verify = (counts: { tableItems: number; indexItems: number }) =>
      withKeptStore(keep, async ({ doc, findings }) =>
        verifyLedger({ from: DAYS[0]!, to: DAYS[2]!, findings, seals: new SealStore(doc, LOCAL_SEALS_TABLE), keys: pinnedPublicKey(await key.publicKey()), now: NOW, indexCounts: async () => counts }),
      );
    expect((await verify({ tableItems: 12, indexItems: 12 })).problems).toEqual([]);
    expect((await verify({ tableItems: 14, indexItems: 12 })).problems).toEqual([
      { day: DAYS[2], kind: 'unindexed', detail: expect.stringContaining('the findings table holds 14 items and its by-day index 12') },
    ]);
  });
});
