/**
 * What only the in-process store does: write-behind (BatchWriteItem, 25 at a time, throttled items
 * sent again), read-through on first touch, expired items dropped without losing an unwritten change,
 * and the claim's parsed event kept with an open check (never written).
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { toPipelineEvent } from '../../lambdas/engine/pipeline-event.js';
import { MemoryFindingsStore } from '../../lambdas/store/memory/memory-findings-store.js';
import { MemoryStateStore } from '../../lambdas/store/memory/memory-state-store.js';
import { StateStore, type PendingCheck } from '../../lambdas/store/state-store.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { finding } from './conformance/kits.js';

const dynamo = useLocalDynamo();

const sighting = (value: string, at: string, forgetAfterDays = 90) => ({ useCase: 'source.new-pusher', scope: 'repo', value, at, eventId: `evt-${value}-${at}`, forgetAfterDays });

const check = (subject: string, claimedAt: string, deadline: string): PendingCheck => ({
  claim: { join: 'app-build', subject, data: {} },
  claimedAt,
  deadline,
  eventId: `evt-${subject}`,
  event: { id: `evt-${subject}` },
});

/**
 * The real table behind, but each BatchWriteItem writes only its first `accepted` requests and
 * hands the rest back as UnprocessedItems, as DynamoDB does when throttled.
 */
function throttled(doc: DynamoDBDocumentClient, accepted: number): { doc: DynamoDBDocumentClient; batches: number[] } {
  const batches: number[] = [];
  const send = async (command: unknown): Promise<unknown> => {
    if (!(command instanceof BatchWriteCommand)) return (doc.send as (c: unknown) => Promise<unknown>)(command);
    const [[table, requests = []]] = Object.entries(command.input.RequestItems ?? {}) as [[string, unknown[]]];
    batches.push(requests.length);
    await doc.send(new BatchWriteCommand({ RequestItems: { [table]: requests.slice(0, accepted) as never } }));
    const rest = requests.slice(accepted);
    return { UnprocessedItems: rest.length > 0 ? { [table]: rest } : {} };
  };
  return { doc: new Proxy(doc, { get: (target, property, receiver) => (property === 'send' ? send : Reflect.get(target, property, receiver)) }), batches };
}

describe('in-process store, written behind', () => {
  it('flushes with BatchWriteItem, at most 25 items a request, sending throttled items again until all are written', async () => {
    const { doc, tables } = await dynamo.freshStores();
    const slow = throttled(doc, 10);
    const pauses: number[] = [];
    const store = new MemoryStateStore({ doc: slow.doc, tableName: tables.state, empty: true }, { pause: async (ms) => void pauses.push(ms) });
    for (let i = 0; i < 60; i += 1) await store.recordSighting(sighting(`v${String(i).padStart(2, '0')}`, '2026-10-01T00:00:00Z'));
    expect(store.calls).toBe(0);
    await store.flush();
    expect(Math.max(...slow.batches)).toBe(25);
    expect(slow.batches.slice(0, 3)).toEqual([25, 15, 5]);
    expect(pauses.length).toBeGreaterThan(0);
    expect(pauses[1]).toBeGreaterThan(pauses[0] ?? Infinity);
    expect(store.calls).toBe(slow.batches.length);
    // Every item landed: the DynamoDB store knows them all.
    expect(await new StateStore(doc, tables.state).countValues('source.new-pusher', 'repo', '2026-10-02T00:00:00Z')).toBe(60);
    const before = store.calls;
    await store.flush();
    expect(store.calls).toBe(before);
  });

  it('reads a partition once, on first touch, when the table may hold state; never when it is known empty', async () => {
    const { doc, tables } = await dynamo.freshStores();
    await new StateStore(doc, tables.state).recordSighting(sighting('alice', '2026-10-01T00:00:00Z'));
    const reading = new MemoryStateStore({ doc, tableName: tables.state, empty: false });
    expect(await reading.recordSighting(sighting('alice', '2026-10-02T12:00:00Z'))).toEqual({ status: 'known' });
    expect(reading.calls).toBe(1);
    expect(await reading.recordSighting(sighting('bob', '2026-10-02T12:00:00Z'))).toEqual({ status: 'new' });
    expect(reading.calls).toBe(1);
    const blind = new MemoryStateStore({ doc, tableName: tables.state, empty: true });
    expect(await blind.recordSighting(sighting('carol', '2026-10-02T12:00:00Z'))).toEqual({ status: 'new' });
    expect(blind.calls).toBe(0);
  });

  it('reads a finding id through before its first write, so a kept ledger still says duplicate', async () => {
    const { doc, tables } = await dynamo.freshStores();
    const first = new MemoryFindingsStore({ doc, tableName: tables.findings, empty: true }, { amendableDay: () => true });
    expect(await first.put(finding('f1', '2026-10-26T03:10:00Z'))).toBe('created');
    await first.flush();
    const second = new MemoryFindingsStore({ doc, tableName: tables.findings, empty: false }, { amendableDay: () => true });
    expect(await second.put(finding('f1', '2026-10-26T03:10:00Z', { summary: 'again' }))).toBe('duplicate');
    expect(await second.put(finding('f2', '2026-10-26T03:11:00Z'))).toBe('created');
    expect(second.calls).toBe(2);
    expect((await second.get('f1'))?.summary).toBe('someone stopped logging');
  });

  it('drops items expired two days behind the newest event time (as TTL deletes them), but still writes a change it has not flushed', async () => {
    const { doc, tables } = await dynamo.freshStores();
    const store = new MemoryStateStore({ doc, tableName: tables.state, empty: true });
    const pending = check('pkg@1', '2026-10-01T10:00:00Z', '2026-10-01T11:00:00Z');
    await store.putPendingCheck('artifact.hash-mismatch', pending);
    await store.flush();
    // Settled: kept a day, then expired. Events a week later sweep it from memory before any flush.
    expect(await store.settlePendingCheck('artifact.hash-mismatch', pending, '2026-10-01T11:05:00Z')).toBe(true);
    await store.recordSighting(sighting('short', '2026-10-01T12:00:00Z', 1));
    await store.recordSighting(sighting('later', '2026-10-09T00:00:00Z'));
    // Gone from memory: the forgotten value is not counted even for a time it was remembered at.
    expect(await store.countValues('source.new-pusher', 'repo', '2026-10-01T13:00:00Z')).toBe(1);
    await store.flush();
    // The settlement reached the table: a later run never reopens the check.
    expect(await new StateStore(doc, tables.state).openPendingChecks('artifact.hash-mismatch')).toEqual([]);
  });

  it('keeps the claim\'s parsed event with its open check, never in the table, and lets it go when the check is settled', async () => {
    const { doc, tables } = await dynamo.freshStores();
    const store = new MemoryStateStore({ doc, tableName: tables.state, empty: true });
    const pending = check('pkg@1', '2026-10-01T10:00:00Z', '2026-10-01T11:00:00Z');
    const claimEvent = toPipelineEvent({ id: 'evt-pkg@1', 'detail-type': 'Probe', source: 'test.correlate', account: '111122223333', time: '2026-10-01T10:00:00Z', region: 'eu-west-1', resources: [], detail: { value: 'abc' } });
    await store.putPendingCheck('artifact.hash-mismatch', pending, claimEvent);
    const [open] = await store.openPendingChecks('artifact.hash-mismatch');
    expect(open && store.claimEventOf('artifact.hash-mismatch', open)).toBe(claimEvent);
    // A redelivered claim leaves the check, and the event kept with it, alone.
    await store.putPendingCheck('artifact.hash-mismatch', pending, toPipelineEvent({ ...claimEvent.envelope, detail: { value: 'changed' } }));
    expect(store.claimEventOf('artifact.hash-mismatch', pending)).toBe(claimEvent);
    expect(store.claimEventOf('artifact.hash-mismatch', check('pkg@2', '2026-10-01T10:00:00Z', '2026-10-01T11:00:00Z'))).toBeUndefined();
    await store.flush();
    // The table holds the slim copy only: a store reading it through has no parsed event to give.
    const readThrough = new MemoryStateStore({ doc, tableName: tables.state, empty: false });
    const [loaded] = await readThrough.openPendingChecks('artifact.hash-mismatch');
    expect(loaded).toEqual(pending);
    expect(loaded && readThrough.claimEventOf('artifact.hash-mismatch', loaded)).toBeUndefined();
    expect(await store.settlePendingCheck('artifact.hash-mismatch', pending, '2026-10-01T11:05:00Z')).toBe(true);
    expect(store.claimEventOf('artifact.hash-mismatch', pending)).toBeUndefined();
  });
});
