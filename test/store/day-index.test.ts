/**
 * The shared day reader (lambdas/store/day-index.ts) on the tables it can meet: the keys-only
 * byDayKeys index, a store made by an earlier version with only the legacy byDay index (ALL), a
 * table with both (mid-upgrade); pages that split a run of equal event times; BatchGetItem keys
 * handed back unprocessed (throttling); an item deleted between the index query and the read.
 * All on dynalite; only the throttling and small pages are imposed on its answers.
 */
import { CreateTableCommand, DescribeTableCommand, DynamoDBServiceException, waitUntilTableExists, type GlobalSecondaryIndexDescription } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { readDayIndex } from '../../bin/commands/ledger-target.js';
import type { Finding } from '../../lambdas/engine/model.js';
import { documentClient, localDynamoClient } from '../../lambdas/store/dynamo-clients.js';
import { dayIdPages, findingsByIds, findingsOfDay, indexUnavailable } from '../../lambdas/store/day-index.js';
import { FindingsStore } from '../../lambdas/store/findings-store.js';
import { MemoryFindingsStore } from '../../lambdas/store/memory/memory-findings-store.js';
import { MAX_ATTEMPTS } from '../../lambdas/store/memory/write-behind.js';
import { FINDINGS_TABLE } from '../../lambdas/store/schema.js';
import { findingsTableInput } from '../../lambdas/store/tables.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { finding } from './conformance/kits.js';

const dynamo = useLocalDynamo();
let legacyCounter = 0;

type Send = (command: unknown) => Promise<unknown>;

/** The same document client, with `send` wrapped (to record or reshape what dynalite answers). */
function wrapped(doc: DynamoDBDocumentClient, send: (command: unknown, real: Send) => Promise<unknown>): DynamoDBDocumentClient {
  const real: Send = (command) => (doc.send as Send)(command);
  return new Proxy(doc, { get: (target, property, receiver) => (property === 'send' ? (command: unknown) => send(command, real) : Reflect.get(target, property, receiver)) });
}

/** A findings table as earlier versions made it: the byDay index projecting ALL, no byDayKeys. */
async function legacyTable(withKeysIndex = false): Promise<{ doc: DynamoDBDocumentClient; tableName: string }> {
  legacyCounter += 1;
  const tableName = `legacy-findings-${legacyCounter}`;
  const client = localDynamoClient(dynamo.endpoint());
  const indexes = [{ name: FINDINGS_TABLE.legacyByDayIndex, projection: 'ALL' as const }, ...(withKeysIndex ? [{ name: FINDINGS_TABLE.byDayIndex, projection: 'KEYS_ONLY' as const }] : [])];
  await client.send(new CreateTableCommand(findingsTableInput(tableName, indexes)));
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1 }, { TableName: tableName });
  return { doc: documentClient(client), tableName };
}

const ids = async (findings: AsyncIterable<Finding>): Promise<string[]> => {
  const out: string[] = [];
  for await (const f of findings) out.push(f.id);
  return out;
};

describe('reading a day of the ledger', () => {
  it('creates local tables with byDayKeys only, keys-only', async () => {
    const { doc, tables } = await dynamo.freshStores();
    const { Table } = await doc.send(new DescribeTableCommand({ TableName: tables.findings }));
    expect(Table?.GlobalSecondaryIndexes?.map((gsi) => [gsi.IndexName, gsi.Projection?.ProjectionType])).toEqual([[FINDINGS_TABLE.byDayIndex, 'KEYS_ONLY']]);
  });

  it('reads a store made by an earlier version (only the legacy byDay index) through every store, amended findings at their latest version', async () => {
    const { doc, tableName } = await legacyTable();
    const writer = new FindingsStore(doc, tableName, { amendableDay: () => true });
    await writer.put(finding('late', '2026-10-26T23:00:00Z'));
    await writer.put(finding('early', '2026-10-26T01:00:00Z'));
    await writer.put(finding('other-day', '2026-10-27T01:00:00Z'));
    expect(await writer.amend('late', () => ({ occurrences: 4, lastSeen: '2026-10-26T23:30:00Z' }))).toBe('amended');

    const queried: string[] = [];
    const recording = wrapped(doc, (command, real) => {
      if (command instanceof QueryCommand) queried.push(String(command.input.IndexName));
      return real(command);
    });
    const store = new FindingsStore(recording, tableName);
    const day: Finding[] = [];
    for await (const f of store.byDay('2026-10-26')) day.push(f);
    expect(day.map((f) => f.id)).toEqual(['early', 'late']);
    expect(day[1]).toMatchObject({ occurrences: 4, lastSeen: '2026-10-26T23:30:00Z' });
    expect(queried).toEqual([FINDINGS_TABLE.byDayIndex, FINDINGS_TABLE.legacyByDayIndex]);

    // The in-process store reading through a kept store of an earlier version.
    const memory = new MemoryFindingsStore({ doc, tableName, empty: false }, { amendableDay: () => true });
    expect(await ids(memory.byDay('2026-10-26'))).toEqual(['early', 'late']);
    expect((await memory.get('late'))?.occurrences).toBe(4);
  });

  it('reads byDayKeys when the table has both indexes (an upgrade between its two deploys)', async () => {
    const { doc, tableName } = await legacyTable(true);
    const writer = new FindingsStore(doc, tableName);
    await writer.put(finding('b', '2026-10-26T02:00:00Z'));
    await writer.put(finding('a', '2026-10-26T01:00:00Z'));
    const queried: string[] = [];
    const recording = wrapped(doc, (command, real) => {
      if (command instanceof QueryCommand) queried.push(String(command.input.IndexName));
      return real(command);
    });
    expect(await ids(findingsOfDay(recording, tableName, '2026-10-26'))).toEqual(['a', 'b']);
    expect(queried).toEqual([FINDINGS_TABLE.byDayIndex]);
  });

  it('says which indexes it tried when the table has no by-day index at all', async () => {
    const { doc, tables } = await dynamo.freshStores();
    // The state table has neither index.
    await expect(ids(findingsOfDay(doc, tables.state, '2026-10-26'))).rejects.toThrow(
      new RegExp(`${tables.state}: no by-day index can be read \\(byDayKeys: .*specified index.*; byDay: .*specified index`),
    );
  });

  it('orders equal event times by id even when a page of the index ends inside their run', async () => {
    const { doc, tables, findings } = await dynamo.freshStores();
    const written: Finding[] = [];
    for (let i = 0; i < 40; i += 1) {
      const f = finding(`id-${String((i * 17) % 40).padStart(2, '0')}`, `2026-10-26T0${Math.floor(i / 7)}:00:00Z`);
      written.push(f);
      await findings.put(f);
    }
    // Pages of 3 keys: most runs of 7 equal times span pages.
    let queries = 0;
    const smallPages = wrapped(doc, (command, real) => {
      if (!(command instanceof QueryCommand)) return real(command);
      queries += 1;
      return real(new QueryCommand({ ...command.input, Limit: 3 }));
    });
    const expected = [...written].sort((a, b) => a.eventTime.localeCompare(b.eventTime) || a.id.localeCompare(b.id)).map((f) => f.id);
    expect(await ids(findingsOfDay(smallPages, tables.findings, '2026-10-26'))).toEqual(expected);
    expect(queries).toBeGreaterThanOrEqual(14);
    const pages: string[][] = [];
    for await (const page of dayIdPages(smallPages, tables.findings, '2026-10-26')) pages.push(page);
    expect(pages.flat()).toEqual(expected);
  });

  it('asks again for keys BatchGetItem hands back unprocessed, pausing longer each time, and keeps the order', async () => {
    const { doc, tables, findings } = await dynamo.freshStores();
    for (let i = 0; i < 130; i += 1) await findings.put(finding(`f-${String(i).padStart(3, '0')}`, `2026-10-26T10:${String(i % 60).padStart(2, '0')}:00Z`));
    const requested: number[] = [];
    // Each BatchGetItem answers for its first 30 keys and hands the rest back, as when throttled.
    const throttled = wrapped(doc, async (command, real) => {
      if (!(command instanceof BatchGetCommand)) return real(command);
      const [[table, request]] = Object.entries(command.input.RequestItems ?? {}) as [[string, { Keys: Record<string, unknown>[]; ConsistentRead?: boolean }]];
      expect(request.ConsistentRead).toBe(true);
      requested.push(request.Keys.length);
      const answered = (await real(new BatchGetCommand({ RequestItems: { [table]: { ...request, Keys: request.Keys.slice(0, 30) } } }))) as { Responses?: Record<string, unknown[]> };
      const rest = request.Keys.slice(30);
      return { Responses: answered.Responses, UnprocessedKeys: rest.length > 0 ? { [table]: { ...request, Keys: rest } } : {} };
    });
    const pauses: number[] = [];
    const read = await ids(findingsOfDay(throttled, tables.findings, '2026-10-26', { pause: async (ms) => void pauses.push(ms) }));
    const expected = Array.from({ length: 130 }, (_, i) => ({ id: `f-${String(i).padStart(3, '0')}`, time: i % 60 }))
      .sort((a, b) => a.time - b.time || a.id.localeCompare(b.id))
      .map((f) => f.id);
    expect(read).toEqual(expected);
    // 100 keys then 30: never more than 100 a request.
    expect(requested).toEqual([100, 70, 40, 10, 30]);
    expect(pauses.slice(0, 3)).toEqual([50, 100, 200]);
  });

  it('gives up with a clear error when keys stay unprocessed, rather than leave findings out', async () => {
    const { doc, tables, findings } = await dynamo.freshStores();
    await findings.put(finding('f1', '2026-10-26T10:00:00Z'));
    let requests = 0;
    const refusing = wrapped(doc, async (command, real) => {
      if (!(command instanceof BatchGetCommand)) return real(command);
      requests += 1;
      return { Responses: {}, UnprocessedKeys: command.input.RequestItems };
    });
    await expect(ids(findingsOfDay(refusing, tables.findings, '2026-10-26', { pause: async () => {} }))).rejects.toThrow(
      `${tables.findings}: 1 finding(s) still unprocessed after ${MAX_ATTEMPTS} BatchGetItem attempts`,
    );
    expect(requests).toBe(MAX_ATTEMPTS);
  });

  it('skips a finding deleted between the index query and the read', async () => {
    const { doc, tables, findings } = await dynamo.freshStores();
    await findings.put(finding('kept', '2026-10-26T01:00:00Z'));
    await findings.put(finding('gone', '2026-10-26T02:00:00Z'));
    const deleting = wrapped(doc, async (command, real) => {
      const answer = await real(command);
      if (command instanceof QueryCommand) await real(new DeleteCommand({ TableName: tables.findings, Key: { id: 'gone' } }));
      return answer;
    });
    expect(await ids(findingsOfDay(deleting, tables.findings, '2026-10-26'))).toEqual(['kept']);
    expect(await findingsByIds(doc, tables.findings, ['gone', 'kept', 'never'])).toEqual([expect.objectContaining({ id: 'kept' })]);
  });

  it('falls back only when DynamoDB says the index is absent or still backfilling', () => {
    // As the SDK raises them (DynamoDB's ValidationException is not a modelled error class).
    const refusal = (message: string) => new DynamoDBServiceException({ name: 'ValidationException', $fault: 'client', message, $metadata: {} });
    expect(indexUnavailable(refusal('The table does not have the specified index: byDayKeys'))).toBe(true);
    expect(indexUnavailable(refusal('Cannot read from backfilling global secondary index: byDayKeys'))).toBe(true);
    expect(indexUnavailable(refusal('One or more parameter values were invalid: Condition parameter type does not match schema type'))).toBe(false);
    expect(indexUnavailable(new Error('The table does not have the specified index: byDayKeys'))).toBe(false);
  });

  it('counts the index the readers read: byDayKeys once ACTIVE and backfilled, else the legacy one', () => {
    const keys = (status: string, backfilling?: boolean): GlobalSecondaryIndexDescription => ({ IndexName: 'byDayKeys', IndexStatus: status as 'ACTIVE', ItemCount: 10, ...(backfilling === undefined ? {} : { Backfilling: backfilling }) });
    const legacy: GlobalSecondaryIndexDescription = { IndexName: 'byDay', IndexStatus: 'ACTIVE', ItemCount: 12 };
    expect(readDayIndex([keys('ACTIVE'), legacy])?.IndexName).toBe('byDayKeys');
    expect(readDayIndex([keys('CREATING', true), legacy])?.IndexName).toBe('byDay');
    expect(readDayIndex([legacy])?.IndexName).toBe('byDay');
    expect(readDayIndex([keys('ACTIVE')])?.IndexName).toBe('byDayKeys');
    expect(readDayIndex([])).toBeUndefined();
  });
});
