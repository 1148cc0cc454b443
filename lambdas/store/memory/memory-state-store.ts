/**
 * The state store in process memory, for replay and backfill: the same contract and semantics as the
 * DynamoDB StateStore (state-store.ts), the same items under the same keys (so a flushed table reads
 * back through StateStore with the same answers), each condition expression evaluated here instead
 * of by DynamoDB. Written behind to a table when given one (item-table.ts).
 */
import { fitItem, keyPart, storableState } from '../../engine/bounds.js';
import type { PipelineEvent } from '../../engine/pipeline-event.js';
import type { JsonObject, StoredCorrelationRecord } from '../../engine/use-case.js';
import {
  CHANGE_PREFIX,
  changeSortKey,
  DAY_SECONDS,
  dedupPartition,
  epochSeconds,
  headPosition,
  pendingSortKey,
  snapshotPartition,
  timeKey,
  toStateChange,
  toStoredRecord,
  correlationRecordItems,
  pendingFilterKeys,
  stateChangeItem,
  pendingCheckItem,
  toPendingCheck,
  windowExpiry,
  type ChangePosition,
  type DedupWindow,
  type RepeatMark,
  type PendingCheck,
  type SightingInput,
  type SightingResult,
  type Snapshot,
  type StateChange,
} from '../state-store.js';
import type { Flushable, StateStorage } from '../store-contract.js';
import { compareKeys } from './key-order.js';
import { ItemTable, type Item } from './item-table.js';
import type { Sleep, WriteBehindTarget } from './write-behind.js';

/** Changes held before a flush is forced, so memory stays bounded between checkpoints. */
const FLUSH_AFTER_CHANGES = 20_000;

/** A number attribute, as DynamoDB compares it (anything else never compares). */
function numberAt(item: Item | undefined, name: string): number | undefined {
  const value = item?.[name];
  return typeof value === 'number' ? value : undefined;
}

/** `attribute >= value` as a condition or filter: false when the attribute is missing or not a number. */
function atLeast(item: Item | undefined, name: string, value: number): boolean {
  const stored = numberAt(item, name);
  return stored !== undefined && stored >= value;
}

function notExpired(now: number): (item: Item) => boolean {
  return (item) => atLeast(item, 'expiresAt', now);
}

/** BETWEEN needs from <= to; DynamoDB refuses the query otherwise, and so does this store. */
function checkBetween(from: string, to: string): void {
  if (compareKeys(from, to) > 0) throw new Error('Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound');
}

/** A pending check's item wants one of `keys` (all: no keys given, or the check names none). */
function wantsAny(item: Item, keys: ReadonlySet<string> | undefined): boolean {
  const wants = item['wants'];
  return !keys || !Array.isArray(wants) || wants.some((key) => keys.has(String(key)));
}

export class MemoryStateStore implements StateStorage, Flushable {
  private readonly table: ItemTable;
  /**
   * The claim's parsed event by its open check's stored item: settling replaces the item and a
   * sweep drops it, and the event goes with it. Never written to a table (its item holds the slim copy).
   */
  private readonly claimEvents = new WeakMap<Item, PipelineEvent>();

  constructor(target?: WriteBehindTarget, options: { pause?: Sleep } = {}) {
    this.table = new ItemTable(target, options.pause);
  }

  /** DynamoDB requests made: read-throughs and flushes. */
  get calls(): number {
    return this.table.calls;
  }

  flush(): Promise<void> {
    return this.table.flush();
  }

  /** Enough changes held to flush them (bounds memory between checkpoints); checked without an await. */
  private get flushDue(): boolean {
    return this.table.pendingWrites >= FLUSH_AFTER_CHANGES;
  }

  async recordSighting(input: SightingInput): Promise<SightingResult> {
    const pk = `${input.useCase}#${keyPart(input.scope)}`;
    const sk = `v#${keyPart(input.value)}`;
    const now = epochSeconds(input.at);
    const expiresAt = now + input.forgetAfterDays * DAY_SECONDS;
    this.table.advance(now);
    const partition = this.table.known(pk) ?? (await this.table.partition(pk));
    const old = this.table.get(partition, sk);
    const stored = old === undefined ? undefined : numberAt(old, 'lastSeenEpoch');
    const refreshDue = stored !== undefined && stored < now - DAY_SECONDS;
    if (!old || (atLeast(old, 'expiresAt', now) && (refreshDue || old['firstEventId'] === input.eventId))) {
      // attribute_not_exists(pk) OR (not expired AND (refresh due OR same first event)): the update.
      const seenDays = numberAt(old, 'seenDays') ?? 0;
      this.table.put(partition, {
        ...old,
        pk,
        sk,
        firstSeen: old && old['firstSeen'] !== undefined ? old['firstSeen'] : input.at,
        firstEventId: old && old['firstEventId'] !== undefined ? old['firstEventId'] : input.eventId,
        lastSeen: input.at,
        lastSeenEpoch: now,
        expiresAt,
        seenDays: seenDays + 1,
      });
      if (this.flushDue) await this.flush();
      const firstEventId = typeof old?.['firstEventId'] === 'string' ? old['firstEventId'] : input.eventId;
      return firstEventId === input.eventId ? { status: 'new' } : { status: 'known' };
    }
    if (Number(old['expiresAt'] ?? 0) >= now) return String(old['firstEventId'] ?? '') === input.eventId ? { status: 'new' } : { status: 'known' };
    // Forgotten: this event is its first sighting again.
    this.table.put(partition, { ...old, pk, sk, firstSeen: input.at, firstEventId: input.eventId, lastSeen: input.at, lastSeenEpoch: now, expiresAt, seenDays: 1 });
    if (this.flushDue) await this.flush();
    return { status: 'new' };
  }

  async scopeWatchedSince(useCase: string, scope: string, at: string): Promise<string> {
    const pk = `${useCase}#${keyPart(scope)}`;
    const partition = this.table.known(pk) ?? (await this.table.partition(pk));
    const old = this.table.get(partition, '#scope');
    const since = old?.['watchedSince'];
    if (!old || (typeof since === 'string' && compareKeys(since, at) > 0)) {
      this.table.put(partition, { ...old, pk, sk: '#scope', watchedSince: at });
      if (this.flushDue) await this.flush();
      return at;
    }
    return typeof since === 'string' ? since : at;
  }

  async countValues(useCase: string, scope: string, at: string): Promise<number> {
    const partitionKey = `${useCase}#${keyPart(scope)}`;
    const partition = this.table.known(partitionKey) ?? (await this.table.partition(partitionKey));
    return this.table.withPrefix(partition, 'v#').filter(notExpired(epochSeconds(at))).length;
  }

  async getSnapshot(useCase: string, key: string): Promise<Snapshot | undefined> {
    const partitionKey = snapshotPartition(useCase, key);
    const item = this.table.get(this.table.known(partitionKey) ?? (await this.table.partition(partitionKey)), '#snapshot');
    if (!item) return undefined;
    return {
      state: item['state'] as JsonObject,
      version: Number(item['version'] ?? 0),
      updatedAt: String(item['updatedAt'] ?? ''),
      lastEventId: String(item['lastEventId'] ?? ''),
    };
  }

  putSnapshot(useCase: string, key: string, snapshot: Snapshot, expectedVersion: number | undefined): Promise<boolean> {
    return this.putVersioned({ pk: snapshotPartition(useCase, key), sk: '#snapshot', ...snapshot, position: headPosition(snapshot) }, expectedVersion);
  }

  async advanceSnapshot(useCase: string, key: string, from: ChangePosition, to: { state: JsonObject; at: string; eventId: string }): Promise<boolean> {
    const pk = snapshotPartition(useCase, key);
    const position = changeSortKey({ at: to.at, eventId: to.eventId, kind: 'event' });
    const { state } = fitItem({ pk, sk: '#snapshot', state: to.state, updatedAt: to.at, lastEventId: to.eventId, position, version: 0 }, ['pk', 'sk', 'updatedAt', 'lastEventId', 'position', 'version']);
    const partition = this.table.known(pk) ?? (await this.table.partition(pk));
    const old = this.table.get(partition, '#snapshot');
    if (!old || old['position'] !== changeSortKey(from)) return false;
    this.table.put(partition, { ...old, state, updatedAt: to.at, lastEventId: to.eventId, position, version: (numberAt(old, 'version') ?? 0) + 1 });
    if (this.flushDue) await this.flush();
    return true;
  }

  async putStateChange(useCase: string, key: string, change: StateChange, keepDays: number): Promise<void> {
    const item = stateChangeItem(useCase, key, change, keepDays);
    this.table.advance(epochSeconds(change.at));
    const partitionKey = String(item['pk']);
    this.table.put(this.table.known(partitionKey) ?? (await this.table.partition(partitionKey)), item);
    if (this.flushDue) await this.flush();
  }

  async stateChangesAround(useCase: string, key: string, position: ChangePosition): Promise<{ own?: StateChange; prior?: StateChange }> {
    const own = changeSortKey(position);
    const partitionKey = snapshotPartition(useCase, key);
    const partition = this.table.known(partitionKey) ?? (await this.table.partition(partitionKey));
    const [first, second] = this.table.range(partition, CHANGE_PREFIX, own, { reverse: true, limit: 2 });
    if (first && first['sk'] === own) return { own: toStateChange(first), ...(second ? { prior: toStateChange(second) } : {}) };
    return first ? { prior: toStateChange(first) } : {};
  }

  async stateChangeAtOrBefore(useCase: string, key: string, at: string): Promise<StateChange | undefined> {
    const partitionKey = snapshotPartition(useCase, key);
    const partition = this.table.known(partitionKey) ?? (await this.table.partition(partitionKey));
    const [item] = this.table.range(partition, CHANGE_PREFIX, `${CHANGE_PREFIX}${timeKey(at)}|\uffff`, { reverse: true, limit: 1 });
    return item ? toStateChange(item) : undefined;
  }

  async stateChangesBetween(useCase: string, key: string, after: ChangePosition, upTo: ChangePosition): Promise<StateChange[]> {
    const from = `${changeSortKey(after)}\u0000`;
    const to = changeSortKey(upTo);
    checkBetween(from, to);
    const partitionKey = snapshotPartition(useCase, key);
    const partition = this.table.known(partitionKey) ?? (await this.table.partition(partitionKey));
    return this.table
      .range(partition, from, to)
      .filter((item) => item['eventId'] !== undefined)
      .map(toStateChange);
  }

  async enabledSince(useCase: string, at: string): Promise<string> {
    const pk = `${useCase}#enabled`;
    const partition = this.table.known(pk) ?? (await this.table.partition(pk));
    const old = this.table.get(partition, '#enabled');
    const epoch = Date.parse(at);
    const sinceEpoch = numberAt(old, 'sinceEpoch');
    if (!old || (sinceEpoch !== undefined && sinceEpoch > epoch)) {
      this.table.put(partition, { ...old, pk, sk: '#enabled', since: at, sinceEpoch: epoch });
      if (this.flushDue) await this.flush();
      return at;
    }
    return typeof old['since'] === 'string' ? old['since'] : at;
  }

  async getDedupWindow(useCase: string, key: string): Promise<DedupWindow | undefined> {
    const partitionKey = dedupPartition(useCase, key);
    const item = this.table.get(this.table.known(partitionKey) ?? (await this.table.partition(partitionKey)), '#window');
    if (!item) return undefined;
    return {
      findingId: String(item['findingId']),
      firstEventId: String(item['firstEventId']),
      start: String(item['start']),
      windowMinutes: Number(item['windowMinutes'] ?? 0),
      version: Number(item['version'] ?? 0),
    };
  }

  putDedupWindow(useCase: string, key: string, window: Omit<DedupWindow, 'version'>, expectedVersion: number | undefined): Promise<boolean> {
    return this.putVersioned(
      { pk: dedupPartition(useCase, key), sk: '#window', ...window, version: (expectedVersion ?? 0) + 1, expiresAt: windowExpiry(window.start, window.windowMinutes) },
      expectedVersion,
    );
  }

  async recordDedupWindow(useCase: string, key: string, window: Omit<DedupWindow, 'version'>): Promise<void> {
    const pk = dedupPartition(useCase, key);
    this.table.put(this.table.known(pk) ?? (await this.table.partition(pk)), { pk, sk: `w|${timeKey(window.start)}|${window.findingId}`, ...window, expiresAt: windowExpiry(window.start, window.windowMinutes) });
    if (this.flushDue) await this.flush();
  }

  async dedupWindowsAround(useCase: string, key: string, at: string, windowMinutes: number): Promise<Array<Omit<DedupWindow, 'version'>>> {
    const ms = Date.parse(at);
    const span = windowMinutes * 60_000;
    const from = `w|${timeKey(new Date(Math.max(0, ms - span)).toISOString())}`;
    const to = `w|${timeKey(new Date(ms + span).toISOString())}|\uffff`;
    checkBetween(from, to);
    const partitionKey = dedupPartition(useCase, key);
    const partition = this.table.known(partitionKey) ?? (await this.table.partition(partitionKey));
    return this.table
      .range(partition, from, to)
      .filter((item) => item['findingId'] !== undefined)
      .map((item) => ({
        findingId: String(item['findingId']),
        firstEventId: String(item['firstEventId']),
        start: String(item['start']),
        windowMinutes: Number(item['windowMinutes'] ?? 0),
      }));
  }

  /** Created when absent (expectedVersion undefined), replaced only at the version read. */
  private async putVersioned(item: Record<string, unknown>, expectedVersion: number | undefined): Promise<boolean> {
    const fitted = fitItem(item, ['pk', 'sk', 'version']);
    const partitionKey = String(fitted['pk']);
    const partition = this.table.known(partitionKey) ?? (await this.table.partition(partitionKey));
    const old = this.table.get(partition, String(fitted['sk']));
    if (expectedVersion === undefined ? old !== undefined : numberAt(old, 'version') !== expectedVersion) return false;
    this.table.put(partition, fitted);
    if (this.flushDue) await this.flush();
    return true;
  }

  async markRepeat(useCase: string, key: string, repeatId: string, window: Pick<DedupWindow, 'findingId' | 'start' | 'windowMinutes'>): Promise<RepeatMark> {
    const pk = dedupPartition(useCase, key);
    const partition = this.table.known(pk) ?? (await this.table.partition(pk));
    const sk = `o|${repeatId}`;
    const marked = this.table.get(partition, sk);
    if (marked) {
      const into = marked['into'];
      return typeof into === 'string' ? { fresh: false, into } : { fresh: false };
    }
    this.table.put(partition, { pk, sk, into: window.findingId, expiresAt: windowExpiry(window.start, window.windowMinutes) });
    if (this.flushDue) await this.flush();
    return { fresh: true, into: window.findingId };
  }

  async putCorrelationRecord(useCase: string, record: StoredCorrelationRecord, forgetAfterDays: number): Promise<void> {
    this.table.advance(epochSeconds(record.at));
    const partitionKey = `${useCase}#rec#${record.join}`;
    const partition = this.table.known(partitionKey) ?? (await this.table.partition(partitionKey));
    const memo = new Map<object, unknown>();
    for (const item of correlationRecordItems(useCase, record, forgetAfterDays)) this.table.put(partition, item, memo);
    if (this.flushDue) await this.flush();
  }

  async correlationRecordsWithKey(useCase: string, join: string, key: string, at: string): Promise<StoredCorrelationRecord[]> {
    const partitionKey = `${useCase}#rec#${join}`;
    const partition = this.table.known(partitionKey) ?? (await this.table.partition(partitionKey));
    return this.table.withPrefix(partition, `k|${keyPart(key, 256)}|`).filter(notExpired(epochSeconds(at))).map(toStoredRecord);
  }

  async correlationRecordsBetween(useCase: string, join: string, from: string, to: string, at: string): Promise<StoredCorrelationRecord[]> {
    const low = `t|${from}`;
    const high = `t|${to}|\uffff`;
    checkBetween(low, high);
    const partitionKey = `${useCase}#rec#${join}`;
    const partition = this.table.known(partitionKey) ?? (await this.table.partition(partitionKey));
    return this.table.range(partition, low, high).filter(notExpired(epochSeconds(at))).map(toStoredRecord);
  }

  async putPendingCheck(useCase: string, check: PendingCheck, claimEvent?: PipelineEvent): Promise<void> {
    const item = pendingCheckItem(useCase, check);
    const partitionKey = String(item['pk']);
    const partition = this.table.known(partitionKey) ?? (await this.table.partition(partitionKey));
    if (this.table.get(partition, String(item['sk']))) return;
    const stored = this.table.put(partition, item);
    if (claimEvent) this.claimEvents.set(stored, claimEvent);
    if (this.flushDue) await this.flush();
  }

  claimEventOf(useCase: string, check: PendingCheck): PipelineEvent | undefined {
    const partition = this.table.known(`${useCase}#pending`);
    const item = partition && this.table.get(partition, pendingSortKey(check));
    return item && item['settledAt'] === undefined ? this.claimEvents.get(item) : undefined;
  }

  async openPendingChecks(useCase: string, range?: { join: string; from: string; to: string; keys?: readonly string[] }): Promise<PendingCheck[]> {
    const partitionKey = `${useCase}#pending`;
    const partition = this.table.known(partitionKey) ?? (await this.table.partition(partitionKey));
    let items: Item[];
    // As the DynamoDB store's filter: checks that want one of the keys, or did not say what they want.
    const filter = pendingFilterKeys(range?.keys);
    const keys = filter ? new Set(filter) : undefined;
    if (range) {
      const from = `${range.join}|${range.from}`;
      const to = `${range.join}|${range.to}|\uffff`;
      checkBetween(from, to);
      items = this.table.range(partition, from, to);
    } else {
      items = this.table.all(partition);
    }
    const open: PendingCheck[] = [];
    for (const item of items) if (item['settledAt'] === undefined && wantsAny(item, keys)) open.push(toPendingCheck(item));
    return open;
  }

  async settlePendingCheck(useCase: string, check: PendingCheck, at: string): Promise<boolean> {
    const partitionKey = `${useCase}#pending`;
    const partition = this.table.known(partitionKey) ?? (await this.table.partition(partitionKey));
    const old = this.table.get(partition, pendingSortKey(check));
    if (!old || old['settledAt'] !== undefined) return false;
    this.table.advance(epochSeconds(at));
    this.table.put(partition, { ...old, settledAt: at, expiresAt: epochSeconds(at) + DAY_SECONDS });
    if (this.flushDue) await this.flush();
    return true;
  }
}
