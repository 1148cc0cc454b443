/**
 * Reading the findings of one day, for every reader of the ledger (seal, verify, export, the
 * in-process store's read-through): the ids from the by-day index, then the items themselves with
 * BatchGetItem. The index is KEYS_ONLY (a ledger write costs one small index write instead of a
 * second copy of the item); the reads are rare (a daily seal, an auditor's export), so paying a
 * second read there is the cheaper side. The items are read with strong consistency, so a seal
 * sees the latest version of an amended finding, which an index (always eventually consistent)
 * cannot promise.
 *
 * Any table a reader can meet is read: one with byDayKeys, one made by an earlier version (an old
 * `--keep` store) with only the legacy byDay index, and a deployed table mid-upgrade whose
 * byDayKeys is still being created or backfilled. DynamoDB refuses a query on those with a
 * ValidationException; the legacy index is then read instead.
 */
import { BatchGetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Finding } from '../engine/model.js';
import { compareKeys } from './memory/key-order.js';
import { MAX_ATTEMPTS, retryPause, sleep, type Sleep } from './memory/write-behind.js';
import { FINDINGS_TABLE } from './schema.js';

export interface DayReadOptions {
  /** Called before each request (the stores count their DynamoDB calls). */
  readonly onRequest?: () => void;
  /** The wait before a throttled BatchGetItem's unprocessed keys are asked again. */
  readonly pause?: Sleep;
}

/** BatchGetItem takes at most 100 keys. */
export const BATCH_GET_SIZE = 100;

/**
 * DynamoDB's answers for an index that cannot be queried (yet): "The table does not have the
 * specified index: NAME" (absent, or being deleted; dynalite answers the same) and "Cannot read
 * from backfilling global secondary index: NAME" (being created).
 */
const INDEX_UNAVAILABLE = [/does not have the specified index/i, /backfilling global secondary index/i];

/** Whether a Query failed because its index is absent or not readable yet (and another index may do). */
export function indexUnavailable(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== 'ValidationException') return false;
  return INDEX_UNAVAILABLE.some((pattern) => pattern.test(error.message));
}

/** An index entry: the finding's id and its event time (the index's sort key). */
export interface DayKey {
  readonly id: string;
  readonly eventTime: string;
}

/** The by-day order every store answers in: event time, ties by id (an index leaves ties open). */
export const byTimeThenId = (a: DayKey, b: DayKey): number => compareKeys(a.eventTime, b.eventTime) || compareKeys(a.id, b.id);

/**
 * The ids of one day's findings, a page at a time, in event-time order, ties by id: from byDayKeys,
 * or from the legacy byDay index when byDayKeys cannot be queried. An index leaves the order of
 * equal sort keys open, so ties are ordered here; the run of the page's last event time waits for
 * the next page, which may continue it.
 */
export async function* dayIdPages(doc: DynamoDBDocumentClient, tableName: string, day: string, options: DayReadOptions = {}): AsyncGenerator<string[]> {
  let indexName: string = FINDINGS_TABLE.byDayIndex;
  let refusal: string | undefined;
  let startKey: Record<string, unknown> | undefined;
  let carried: DayKey[] = [];
  for (;;) {
    let page;
    try {
      options.onRequest?.();
      page = await doc.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: indexName,
          KeyConditionExpression: '#day = :day',
          // Keys only: the legacy index projects whole items, which are read again anyway.
          ProjectionExpression: '#id, #time',
          ExpressionAttributeNames: { '#day': FINDINGS_TABLE.byDayPartitionKey, '#id': FINDINGS_TABLE.partitionKey, '#time': FINDINGS_TABLE.byDaySortKey },
          ExpressionAttributeValues: { ':day': day },
          ExclusiveStartKey: startKey,
        }),
      );
    } catch (error) {
      if (startKey !== undefined || !indexUnavailable(error)) throw error;
      if (indexName === FINDINGS_TABLE.legacyByDayIndex) {
        throw new Error(
          `${tableName}: no by-day index can be read (${FINDINGS_TABLE.byDayIndex}: ${refusal}; ${FINDINGS_TABLE.legacyByDayIndex}: ${(error as Error).message})`,
          { cause: error },
        );
      }
      refusal = (error as Error).message;
      indexName = FINDINGS_TABLE.legacyByDayIndex;
      continue;
    }
    const keys = [...carried];
    for (const item of page.Items ?? []) {
      const id = item[FINDINGS_TABLE.partitionKey];
      const eventTime = item[FINDINGS_TABLE.byDaySortKey];
      if (typeof id === 'string' && typeof eventTime === 'string') keys.push({ id, eventTime });
    }
    startKey = page.LastEvaluatedKey;
    const last = keys.at(-1);
    let cut = keys.length;
    if (startKey && last) while (cut > 0 && keys[cut - 1]?.eventTime === last.eventTime) cut -= 1;
    carried = keys.slice(cut);
    const ready = keys.slice(0, cut).sort(byTimeThenId);
    if (ready.length > 0) yield ready.map((key) => key.id);
    if (!startKey) return;
  }
}

/**
 * The findings with these ids, read with strong consistency (BatchGetItem, 100 keys a request,
 * unprocessed keys asked again after a growing pause), in the order given. An id whose item is
 * gone (deleted between the index query and this read) is left out.
 */
export async function findingsByIds(doc: DynamoDBDocumentClient, tableName: string, ids: readonly string[], options: DayReadOptions = {}): Promise<Finding[]> {
  const unique = [...new Set(ids)];
  const found = new Map<string, Finding>();
  for (let start = 0; start < unique.length; start += BATCH_GET_SIZE) {
    let pending: Record<string, unknown>[] = unique.slice(start, start + BATCH_GET_SIZE).map((id) => ({ [FINDINGS_TABLE.partitionKey]: id }));
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      if (attempt > MAX_ATTEMPTS) {
        throw new Error(`${tableName}: ${pending.length} finding(s) still unprocessed after ${MAX_ATTEMPTS} BatchGetItem attempts (throttled): nothing was left out; read again later`);
      }
      if (attempt > 1) await (options.pause ?? sleep)(retryPause(attempt));
      options.onRequest?.();
      const { Responses, UnprocessedKeys } = await doc.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }));
      for (const item of Responses?.[tableName] ?? []) {
        const id = item[FINDINGS_TABLE.partitionKey];
        if (typeof id === 'string') found.set(id, item as Finding);
      }
      pending = UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
  }
  return ids.flatMap((id) => {
    const item = found.get(id);
    return item ? [item] : [];
  });
}

/** The findings of one day (yyyy-mm-dd) in the index's order, each at its latest version. */
export async function* findingsOfDay(doc: DynamoDBDocumentClient, tableName: string, day: string, options: DayReadOptions = {}): AsyncGenerator<Finding> {
  for await (const ids of dayIdPages(doc, tableName, day, options)) {
    // A page holds up to 1 MB of keys; its items are fetched and yielded 100 at a time.
    for (let start = 0; start < ids.length; start += BATCH_GET_SIZE) {
      yield* await findingsByIds(doc, tableName, ids.slice(start, start + BATCH_GET_SIZE), options);
    }
  }
}
