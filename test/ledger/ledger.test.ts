/**
 * Seal and verify against a real DynamoDB API (dynalite): a clean ledger verifies; every kind of
 * tampering with the findings table or the seals table is named, by day and record.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { contentHashOf } from '../../lambdas/engine/canonical.js';
import type { Finding } from '../../lambdas/engine/model.js';
import { LocalSigner } from '../../lambdas/ledger/local-signer.js';
import { ensureSealsTable, SEALS_TABLE, SealStore } from '../../lambdas/ledger/seal-store.js';
import { parsePayload, sealDay, sealDays } from '../../lambdas/ledger/seal.js';
import { pinnedPublicKey, sha256Hex, type PublicKeyResolver, type Signer } from '../../lambdas/ledger/signer.js';
import { verifyLedger, type Problem } from '../../lambdas/ledger/verifier.js';
import { documentClient, localDynamoClient } from '../../lambdas/store/dynamo-clients.js';
import type { FindingsStore } from '../../lambdas/store/findings-store.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { record, records } from './fixtures.js';

const dynamo = useLocalDynamo();
const DAYS = ['2026-10-23', '2026-10-24', '2026-10-25'];
const NOW = new Date('2026-11-01T00:00:00Z');
let sealTables = 0;

interface Ledger {
  doc: DynamoDBDocumentClient;
  findings: FindingsStore;
  findingsTable: string;
  seals: SealStore;
  sealsTable: string;
  signer: LocalSigner;
  keys: PublicKeyResolver;
  seal(days?: string[], signer?: Signer): Promise<void>;
  verify(options?: { from?: string; to?: string; expectedKeyId?: string; keys?: PublicKeyResolver }): Promise<Problem[]>;
  put(...items: Finding[]): Promise<void>;
}

async function ledger(items: Finding[] = records(12, DAYS), chunkBytes?: number): Promise<Ledger> {
  const stores = await dynamo.freshStores();
  const client = localDynamoClient(dynamo.endpoint());
  sealTables += 1;
  const sealsTable = `seals-${sealTables}`;
  await ensureSealsTable(client, sealsTable);
  const doc = documentClient(client);
  const seals = new SealStore(doc, sealsTable, chunkBytes);
  const signer = LocalSigner.generate();
  const keys = pinnedPublicKey(await signer.publicKey());
  const l: Ledger = {
    doc,
    findings: stores.findings,
    findingsTable: stores.tables.findings,
    seals,
    sealsTable,
    signer,
    keys,
    seal: async (days = DAYS, by = signer) => {
      await sealDays(days, { findings: stores.findings, seals, signer: by, clock: () => new Date('2026-10-28T03:00:00Z') });
    },
    verify: async (options = {}) =>
      (
        await verifyLedger({
          from: options.from ?? DAYS[0]!,
          to: options.to ?? DAYS.at(-1)!,
          findings: stores.findings,
          seals,
          keys: options.keys ?? keys,
          now: NOW,
          ...(options.expectedKeyId ? { expectedKeyId: options.expectedKeyId } : {}),
        })
      ).problems,
    put: async (...more) => {
      for (const item of more) expect(await stores.findings.put(item)).toBe('created');
    },
  };
  await l.put(...items);
  return l;
}

const summary = (problems: Problem[]) => problems.map((p) => `${p.day} ${p.id ?? '-'} ${p.kind}`).sort();

async function update(l: Ledger, id: string, set: Record<string, unknown>): Promise<void> {
  const names = Object.fromEntries(Object.keys(set).map((key, i) => [`#k${i}`, key]));
  const values = Object.fromEntries(Object.values(set).map((value, i) => [`:v${i}`, value]));
  await l.doc.send(
    new UpdateCommand({
      TableName: l.findingsTable,
      Key: { id },
      UpdateExpression: `SET ${Object.keys(set).map((_, i) => `#k${i} = :v${i}`).join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    }),
  );
}

describe('sealing', () => {
  it('seals each day once, linked to the seal of the day before, and verifies clean', async () => {
    const l = await ledger();
    await l.seal();
    const [first, second] = await Promise.all([l.seals.get(DAYS[0]!), l.seals.get(DAYS[1]!)]);
    expect(parsePayload(first!.payload)).toMatchObject({ type: 'buildwatch.ledger.day-seal', day: DAYS[0], count: 4, previous: null, signer: { kind: 'local', keyId: l.signer.keyId }, algorithm: 'ECDSA_SHA_256' });
    expect(parsePayload(second!.payload).previous).toEqual({ day: DAYS[0], digest: sha256Hex(first!.payload) });
    const report = await verifyLedger({ from: DAYS[0]!, to: DAYS[2]!, findings: l.findings, seals: l.seals, keys: l.keys, now: NOW });
    expect(report).toMatchObject({ days: 3, sealedDays: 3, records: 12, problems: [], keys: [l.signer.keyId] });
    expect(report.head).toEqual({ day: DAYS[2], digest: sha256Hex((await l.seals.get(DAYS[2]!))!.payload) });
  });

  it('never replaces a seal, and two concurrent sealers of one day produce one seal', async () => {
    const l = await ledger();
    const deps = { findings: l.findings, seals: l.seals, signer: l.signer };
    const outcomes = await Promise.all([sealDay(DAYS[0]!, deps), sealDay(DAYS[0]!, deps)]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['already-sealed', 'sealed']);
    const before = await l.seals.get(DAYS[0]!);
    await l.put(record({ id: 'late', eventTime: `${DAYS[0]}T23:59:00Z` }));
    expect((await sealDay(DAYS[0]!, deps)).status).toBe('already-sealed');
    expect((await l.seals.get(DAYS[0]!))!.payload).toBe(before!.payload);
    expect(summary(await l.verify({ to: DAYS[0] }))).toEqual([`${DAYS[0]} late inserted`]);
  });

  it('stores a busy day in several chunks and still verifies it', async () => {
    const l = await ledger(records(150, [DAYS[0]!]), 4 * 1024);
    await l.seal([DAYS[0]!]);
    expect((await l.seals.get(DAYS[0]!))!.leafChunks).toBeGreaterThan(2);
    expect(await l.verify({ to: DAYS[0] })).toEqual([]);
    await l.doc.send(new DeleteCommand({ TableName: l.findingsTable, Key: { id: records(150, [DAYS[0]!])[149]!.id } }));
    expect(summary(await l.verify({ to: DAYS[0] }))).toEqual([`${DAYS[0]} ${records(150, [DAYS[0]!])[149]!.id} deleted`]);
  });

  it('seals a record edited before sealing as found, and verify keeps reporting the mismatch', async () => {
    const items = records(3, [DAYS[0]!]);
    const l = await ledger(items);
    await update(l, items[1]!.id, { summary: 'edited before the seal' });
    const [outcome] = await sealDays([DAYS[0]!], { findings: l.findings, seals: l.seals, signer: l.signer });
    expect(outcome!.mismatched).toEqual([items[1]!.id]);
    expect(await l.verify({ to: DAYS[0] })).toEqual([
      { day: DAYS[0], id: items[1]!.id, kind: 'hash-mismatch', detail: 'its contentHash attribute does not match its content (the content is as sealed)' },
    ]);
  });
});

describe('verify names tampering with the findings table', () => {
  it('an edited record, whether or not its contentHash was recomputed', async () => {
    const items = records(12, DAYS);
    const l = await ledger(items);
    await l.seal();
    const [a, b, c] = [items[0]!, items[1]!, items[2]!];
    await update(l, a.id, { severity: 'low' }); // contentHash attribute left alone
    const forged = { ...b, severity: 'info' as const };
    await update(l, b.id, { severity: 'info', contentHash: contentHashOf(forged as unknown as Record<string, unknown>) }); // hash recomputed to match
    await update(l, c.id, { contentHash: '0'.repeat(64) }); // only the hash attribute
    const problems = await l.verify();
    expect(summary(problems)).toEqual([`${a.day} ${a.id} modified`, `${b.day} ${b.id} modified`, `${c.day} ${c.id} hash-mismatch`].sort());
    expect(problems.find((p) => p.id === a.id)!.detail).toMatch(/still has the sealed value/);
    expect(problems.find((p) => p.id === b.id)!.detail).toMatch(/recomputed to match/);
  });

  it('a deleted record, an inserted record, an added attribute and a record moved to another day', async () => {
    const items = records(12, DAYS);
    const l = await ledger(items);
    await l.seal();
    const [gone, extra, moved] = [items[3]!, items[4]!, items[5]!];
    await l.doc.send(new DeleteCommand({ TableName: l.findingsTable, Key: { id: gone.id } }));
    const planted = record({ id: 'planted', eventTime: `${DAYS[1]}T12:00:00Z`, recordedAt: '2026-10-30T00:00:00Z' });
    await l.put(planted);
    await update(l, extra.id, { note: 'an innocent-looking extra attribute' });
    await update(l, moved.id, { day: DAYS[0], eventTime: `${DAYS[0]}T00:00:01Z` });
    const problems = await l.verify();
    expect(summary(problems)).toEqual(
      [`${gone.day} ${gone.id} deleted`, `${DAYS[1]} planted inserted`, `${extra.day} ${extra.id} modified`, `${moved.day} ${moved.id} modified`, `${DAYS[0]} ${moved.id} inserted`].sort(),
    );
    expect(problems.find((p) => p.id === 'planted')!.detail).toContain('recordedAt 2026-10-30T00:00:00Z');
    expect(problems.find((p) => p.id === moved.id && p.kind === 'modified')!.detail).toBe(`moved to day ${DAYS[0]} after sealing (its day or event time was changed)`);
  });

  it('days not sealed: content hashes still checked; records unsealed past the due time are a problem', async () => {
    const items = records(6, DAYS);
    const l = await ledger(items);
    await update(l, items[0]!.id, { summary: 'edited' });
    const report = await verifyLedger({ from: DAYS[0]!, to: DAYS[2]!, findings: l.findings, seals: l.seals, keys: l.keys, now: new Date('2026-10-26T12:00:00Z') });
    // The 23rd ended 60 h before "now" (due after 48 h); the 24th and 25th are not due yet.
    expect(summary(report.problems)).toEqual([`${DAYS[0]} - unsealed`, `${DAYS[0]} ${items[0]!.id} hash-mismatch`]);
    expect(report.pendingDays).toEqual([DAYS[1], DAYS[2]]);
  });
});

describe('verify names tampering with the seals', () => {
  it('edited sealed leaves, an edited signed payload, an edited readable copy', async () => {
    const l = await ledger();
    await l.seal();
    const seal0 = (await l.seals.get(DAYS[0]!))!;
    // Drop a leaf from day 0's stored leaves (to hide a deletion).
    const chunkKey = { [SEALS_TABLE.partitionKey]: `leaves#${DAYS[0]}#${seal0.digest}`, [SEALS_TABLE.sortKey]: '00000' };
    const { Item } = await l.doc.send(new GetCommand({ TableName: l.sealsTable, Key: chunkKey }));
    const leaves = JSON.parse(Item!['leaves'] as string) as unknown[];
    await l.doc.send(new PutCommand({ TableName: l.sealsTable, Item: { ...Item, leaves: JSON.stringify(leaves.slice(1)) } }));
    // Lower day 1's signed count.
    const seal1 = (await l.seals.get(DAYS[1]!))!;
    const header = { [SEALS_TABLE.partitionKey]: 'seal' };
    await l.doc.send(new PutCommand({ TableName: l.sealsTable, Item: { ...header, [SEALS_TABLE.sortKey]: DAYS[1], ...seal1, payload: seal1.payload.replace('"count":4', '"count":3') } }));
    // Day 2: only the readable copy of the count.
    const seal2 = (await l.seals.get(DAYS[2]!))!;
    await l.doc.send(new PutCommand({ TableName: l.sealsTable, Item: { ...header, [SEALS_TABLE.sortKey]: DAYS[2], ...seal2, count: 99 } }));
    const problems = await l.verify();
    expect(summary(problems)).toEqual([`${DAYS[0]} - bad-seal`, `${DAYS[1]} - bad-signature`, `${DAYS[1]} - seal-replaced`, `${DAYS[2]} - bad-seal`].sort());
    expect(problems.find((p) => p.day === DAYS[2])!.detail).toMatch(/readable count \(99\)/);
  });

  it('a whole day deleted with its seal breaks the chain at the next day', async () => {
    const items = records(12, DAYS);
    const l = await ledger(items);
    await l.seal();
    for (const item of items.filter((i) => i.day === DAYS[1])) await l.doc.send(new DeleteCommand({ TableName: l.findingsTable, Key: { id: item.id } }));
    await l.doc.send(new DeleteCommand({ TableName: l.sealsTable, Key: { [SEALS_TABLE.partitionKey]: 'seal', [SEALS_TABLE.sortKey]: DAYS[1] } }));
    expect(summary(await l.verify())).toEqual([`${DAYS[1]} - seal-missing`]);
  });

  it('a day re-sealed with another key after tampering: caught by the pinned key and by the chain', async () => {
    const items = records(12, DAYS);
    const l = await ledger(items);
    await l.seal();
    // The attacker deletes a record of day 0 and re-seals day 0 with a key of their own.
    await l.doc.send(new DeleteCommand({ TableName: l.findingsTable, Key: { id: items[0]!.id } }));
    await l.doc.send(new DeleteCommand({ TableName: l.sealsTable, Key: { [SEALS_TABLE.partitionKey]: 'seal', [SEALS_TABLE.sortKey]: DAYS[0] } }));
    const mallory = LocalSigner.generate();
    await l.seal([DAYS[0]!], mallory);
    // With the auditor's pinned public key: the forged seal does not verify.
    expect(summary(await l.verify())).toEqual([`${DAYS[0]} - bad-signature`, `${DAYS[0]} - seal-replaced`].sort());
    // Trusting whatever key a seal names, but expecting the real key id: still caught.
    const anyKey: PublicKeyResolver = { resolve: async (keyId) => (keyId === mallory.keyId ? mallory.publicKey() : l.signer.publicKey()) };
    expect(summary(await l.verify({ keys: anyKey, expectedKeyId: l.signer.keyId }))).toEqual([`${DAYS[0]} - seal-replaced`, `${DAYS[0]} - untrusted-key`].sort());
    // Even trusting any key with no expectation, the next day's link exposes the replaced seal.
    expect(summary(await l.verify({ keys: anyKey }))).toEqual([`${DAYS[0]} - seal-replaced`]);
  });
});
