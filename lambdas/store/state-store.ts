/**
 * The state store: first-seen baselines, scope metadata (start of learning) and drift snapshots,
 * on DynamoDB through an injected document client.
 *
 * Layout (one table, pk/sk):
 *   value     pk = <useCase>#<scope>   sk = v#<value>   firstSeen, lastSeen, lastSeenEpoch, expiresAt, seenDays, firstEventId
 *   scope     pk = <useCase>#<scope>   sk = #scope      watchedSince
 *   snapshot  pk = <useCase>#<key>     sk = #snapshot   state, version, updatedAt, lastEventId, position   (head: newest known state)
 *   change    pk = <useCase>#<key>     sk = #h|<event ms, 15 digits>|<0 baseline, 1 event>|<eventId>
 *             at, eventId, kind, report?, partial, after, expiresAt   (drift change log: the state at each event's time, kept forget-after days)
 *   record    pk = <useCase>#rec#<join> sk = t|<at>|<id> and k|<key>|<id> (one item per lookup key)
 *             id, at, keys, names?, data, expiresAt   (correlate: e.g. build outputs by time and by hash; one BatchWriteItem)
 *   pending   pk = <useCase>#pending    sk = <join>|<claimedAt>|<subject>|<eventId>
 *             join, subject, wants?, claimedAt, deadline, data, event, expiresAt, settledAt?   (correlate checks)
 *   enabled   pk = <useCase>#enabled    sk = #enabled   since (earliest event time evaluated: staging starts there)
 *   window    pk = <useCase>#dedup|<sha256 of mode|severity|dedupKey>   sk = #window
 *             findingId, firstEventId, start, windowMinutes, version, expiresAt   (dedup window)
 *   repeat    same pk, sk = o|<the repeat's own finding id>   expiresAt   (a repeat already counted)
 *   opened    same pk, sk = w|<start ms, 15 digits>|<findingId>   the window's fields   (every window opened, for late events)
 * Times are event times, never the wall clock, so replaying history behaves like living through it.
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { boundStrings, fitItem, keyPart, storableState } from '../engine/bounds.js';
import { redact } from '../engine/redact.js';
import type { CorrelationClaim, JsonObject, StoredCorrelationRecord } from '../engine/use-case.js';
import { STATE_TABLE } from './schema.js';
import type { StateStorage } from './store-contract.js';

export const DAY_SECONDS = 86_400;
/** DynamoDB's limit of put requests per BatchWriteItem. */
const BATCH_WRITE_LIMIT = 25;
/** Batch writes (the first and the retries of unprocessed items) before giving up. */
const BATCH_WRITE_ATTEMPTS = 5;

export interface SightingInput {
  readonly useCase: string;
  readonly scope: string;
  readonly value: string;
  /** ISO event time. */
  readonly at: string;
  readonly eventId: string;
  readonly forgetAfterDays: number;
}

export type SightingResult =
  /** Never seen, or forgotten (past forget-after), or a redelivery of the event that first saw it. */
  | { readonly status: 'new' }
  | { readonly status: 'known' };

/**
 * The head of a drift key's change log: its newest known state, the event time and id of the newest
 * change folded into it, and a version for optimistic writes.
 */
export interface Snapshot {
  readonly state: JsonObject;
  readonly version: number;
  /** Event time (ISO) of the newest change in `state`. */
  readonly updatedAt: string;
  readonly lastEventId: string;
}

/** Where a change sits in a key's history: event time, then a baseline before its event, then event id. */
export interface ChangePosition {
  readonly at: string;
  readonly eventId: string;
  /** 'event': what an event reported; 'baseline': the state just before that event (from a look-up). */
  readonly kind: 'event' | 'baseline';
}

/** One entry of a drift key's change log. */
export interface StateChange extends ChangePosition {
  /** What the event reported (absent for a baseline). */
  readonly report?: JsonObject;
  readonly partial: boolean;
  /** The key's state right after this change: the state at this point of the history. */
  readonly after: JsonObject;
}

export const CHANGE_PREFIX = '#h|';

/** Epoch milliseconds, zero-padded, so sort keys order by time whatever the ISO spelling. */
export function timeKey(at: string): string {
  const ms = Date.parse(at);
  // A RangeError: the same time fails every retry, so the event is dead-lettered at once.
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`state change: unreadable event time ${JSON.stringify(at)}`);
  return String(ms).padStart(15, '0');
}

/** Where a head sits in its key's change log (stored, so a write can be conditioned on it). */
export function headPosition(snapshot: Snapshot): string {
  return changeSortKey({ at: snapshot.updatedAt, eventId: snapshot.lastEventId, kind: 'event' });
}

export function changeSortKey(position: ChangePosition): string {
  return `${CHANGE_PREFIX}${timeKey(position.at)}|${position.kind === 'baseline' ? 0 : 1}|${position.eventId}`;
}

/** Orders two positions as their sort keys do. */
export function compareChangePositions(a: ChangePosition, b: ChangePosition): number {
  const x = changeSortKey(a);
  const y = changeSortKey(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function toStateChange(item: Record<string, unknown>): StateChange {
  return {
    at: String(item['at']),
    eventId: String(item['eventId']),
    kind: item['kind'] === 'baseline' ? 'baseline' : 'event',
    ...(item['report'] ? { report: item['report'] as JsonObject } : {}),
    partial: item['partial'] === true,
    after: (item['after'] ?? {}) as JsonObject,
  };
}

/** Only ever filled from a confirmed write or a read: never from a write whose outcome is unknown. */
interface CachedValue {
  lastSeenEpoch: number;
  expiresAt: number;
  firstEventId: string;
}

/** Per-container memory of keys already known and refreshed, so steady state costs no calls. */
class BoundedCache<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly limit: number) {}
  get(key: string): V | undefined {
    return this.entries.get(key);
  }
  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.limit) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}

/** A dedup window: repeats of the first finding within `windowMinutes` of its event time update its count. */
/** A repeat's mark: the first one (`fresh`), or the finding an earlier mark counted it into. */
export interface RepeatMark {
  readonly fresh: boolean;
  /** The first finding of the window the repeat belongs to (undefined for marks older than this field). */
  readonly into?: string;
}

export interface DedupWindow {
  readonly findingId: string;
  readonly firstEventId: string;
  /** Event time of the first finding (ISO). */
  readonly start: string;
  readonly windowMinutes: number;
  /** Optimistic-concurrency version (a window is replaced when a repeat falls outside it). */
  readonly version: number;
}

export function epochSeconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

export class StateStore implements StateStorage {
  private readonly values = new BoundedCache<CachedValue>(20_000);
  private readonly scopes = new BoundedCache<string>(5_000);
  private readonly enabled = new BoundedCache<string>(1_000);
  /** DynamoDB requests made, for the benchmark's calls-per-event figure. */
  calls = 0;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Records that `value` was seen in `scope` and says whether it is new. One conditional write in the
   * usual cases: it succeeds when the item is absent, due a lastSeen refresh (at most daily) or first
   * written by this same event, and its old image then tells new from known. Only what a response
   * confirmed is cached: a write whose response was lost may have landed, so the item is read back
   * rather than guessed (otherwise the retried first event would pass for known and its alert be lost).
   */
  async recordSighting(input: SightingInput): Promise<SightingResult> {
    // Values and scopes come from events: bounded to fit DynamoDB's key limits.
    const pk = `${input.useCase}#${keyPart(input.scope)}`;
    const sk = `v#${keyPart(input.value)}`;
    const key = { [STATE_TABLE.partitionKey]: pk, [STATE_TABLE.sortKey]: sk };
    const cacheKey = `${pk}\u0000${sk}`;
    const now = epochSeconds(input.at);
    const expiresAt = now + input.forgetAfterDays * DAY_SECONDS;

    const cached = this.values.get(cacheKey);
    if (cached && now < cached.lastSeenEpoch + DAY_SECONDS && now < cached.expiresAt && cached.firstEventId !== input.eventId) {
      return { status: 'known' };
    }

    try {
      this.calls += 1;
      const { Attributes: old } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression:
            'SET firstSeen = if_not_exists(firstSeen, :at), firstEventId = if_not_exists(firstEventId, :eventId), lastSeen = :at, lastSeenEpoch = :now, expiresAt = :exp ADD seenDays :one',
          // Expired items are left to the revival below, which rewrites firstEventId in the same write.
          ConditionExpression: 'attribute_not_exists(pk) OR (expiresAt >= :now AND (lastSeenEpoch < :refreshBefore OR firstEventId = :eventId))',
          ExpressionAttributeValues: {
            ':at': input.at,
            ':eventId': input.eventId,
            ':now': now,
            ':exp': expiresAt,
            ':one': 1,
            ':refreshBefore': now - DAY_SECONDS,
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const firstEventId = typeof old?.['firstEventId'] === 'string' ? old['firstEventId'] : input.eventId;
      this.values.set(cacheKey, { lastSeenEpoch: now, expiresAt, firstEventId });
      return firstEventId === input.eventId ? { status: 'new' } : { status: 'known' };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    // Known and refreshed within the last day, or forgotten: read it back (a confirmed answer to cache).
    const stored = await this.getItem(key);
    const storedExpiry = Number(stored?.['expiresAt'] ?? 0);
    if (stored && storedExpiry >= now) {
      const firstEventId = String(stored['firstEventId'] ?? '');
      this.values.set(cacheKey, { lastSeenEpoch: Number(stored['lastSeenEpoch'] ?? 0), expiresAt: storedExpiry, firstEventId });
      return firstEventId === input.eventId ? { status: 'new' } : { status: 'known' };
    }
    return this.reviveSighting(input, key, cacheKey, now, expiresAt);
  }

  /** A forgotten value seen again: one write makes this event its first sighting (or finds another event did). */
  private async reviveSighting(input: SightingInput, key: Record<string, string>, cacheKey: string, now: number, expiresAt: number): Promise<SightingResult> {
    try {
      this.calls += 1;
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET firstSeen = :at, firstEventId = :eventId, lastSeen = :at, lastSeenEpoch = :now, expiresAt = :exp, seenDays = :one',
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
          ExpressionAttributeValues: { ':at': input.at, ':eventId': input.eventId, ':now': now, ':exp': expiresAt, ':one': 1 },
        }),
      );
      this.values.set(cacheKey, { lastSeenEpoch: now, expiresAt, firstEventId: input.eventId });
      return { status: 'new' };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Another event revived it meanwhile: whichever event the item names was first.
      const stored = await this.getItem(key);
      return stored?.['firstEventId'] === input.eventId ? { status: 'new' } : { status: 'known' };
    }
  }

  private async getItem(key: Record<string, string>): Promise<Record<string, unknown> | undefined> {
    this.calls += 1;
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    return Item;
  }

  /** When watching `scope` began (start of its learning period); the earliest sighting registers it. */
  async scopeWatchedSince(useCase: string, scope: string, at: string): Promise<string> {
    const pk = `${useCase}#${keyPart(scope)}`;
    const cached = this.scopes.get(pk);
    if (cached && cached <= at) return cached;
    try {
      this.calls += 1;
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [STATE_TABLE.partitionKey]: pk, [STATE_TABLE.sortKey]: '#scope' },
          UpdateExpression: 'SET watchedSince = :at',
          ConditionExpression: 'attribute_not_exists(pk) OR watchedSince > :at',
          ExpressionAttributeValues: { ':at': at },
        }),
      );
      this.scopes.set(pk, at);
      return at;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      this.calls += 1;
      const { Item } = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: { [STATE_TABLE.partitionKey]: pk, [STATE_TABLE.sortKey]: '#scope' }, ConsistentRead: true }),
      );
      const since = typeof Item?.['watchedSince'] === 'string' ? Item['watchedSince'] : at;
      this.scopes.set(pk, since);
      return since;
    }
  }

  /** How many values the scope holds that are not forgotten at `at`. */
  async countValues(useCase: string, scope: string, at: string): Promise<number> {
    let count = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      this.calls += 1;
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          FilterExpression: 'expiresAt >= :now',
          ExpressionAttributeValues: { ':pk': `${useCase}#${keyPart(scope)}`, ':prefix': 'v#', ':now': epochSeconds(at) },
          Select: 'COUNT',
          ExclusiveStartKey: startKey,
        }),
      );
      count += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return count;
  }

  /** The current (newest) known state of a drift key: the head of its change log. */
  async getSnapshot(useCase: string, key: string): Promise<Snapshot | undefined> {
    this.calls += 1;
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: snapshotPartition(useCase, key), sk: '#snapshot' }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      state: Item['state'] as JsonObject,
      version: Number(Item['version'] ?? 0),
      updatedAt: String(Item['updatedAt'] ?? ''),
      lastEventId: String(Item['lastEventId'] ?? ''),
    };
  }

  /** Optimistic write of the head: false when someone else wrote a newer version first. */
  async putSnapshot(useCase: string, key: string, snapshot: Snapshot, expectedVersion: number | undefined): Promise<boolean> {
    return this.putVersioned({ pk: snapshotPartition(useCase, key), sk: '#snapshot', ...snapshot, position: headPosition(snapshot) }, expectedVersion);
  }

  /**
   * Moves the head forward without reading it first: succeeds only if the head still sits at `from`
   * (the change the new state was computed from). False otherwise: the caller reads it and decides.
   */
  async advanceSnapshot(useCase: string, key: string, from: ChangePosition, to: { state: JsonObject; at: string; eventId: string }): Promise<boolean> {
    // The head item as a whole must stay under DynamoDB's 400 KB, as putSnapshot's does.
    const pk = snapshotPartition(useCase, key);
    const position = changeSortKey({ at: to.at, eventId: to.eventId, kind: 'event' });
    const { state } = fitItem({ pk, sk: '#snapshot', state: to.state, updatedAt: to.at, lastEventId: to.eventId, position, version: 0 }, ['pk', 'sk', 'updatedAt', 'lastEventId', 'position', 'version']);
    try {
      this.calls += 1;
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk, sk: '#snapshot' },
          UpdateExpression: 'SET #state = :state, updatedAt = :at, lastEventId = :eventId, #position = :to ADD version :one',
          ConditionExpression: '#position = :from',
          ExpressionAttributeNames: { '#state': 'state', '#position': 'position' },
          ExpressionAttributeValues: {
            ':state': state,
            ':at': to.at,
            ':eventId': to.eventId,
            ':to': position,
            ':from': changeSortKey(from),
            ':one': 1,
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Records one change of a drift key in its change log (idempotent: a redelivery rewrites the same
   * item). Changes are ordered by event time, then kind (a baseline before its event), then event id.
   */
  async putStateChange(useCase: string, key: string, change: StateChange, keepDays: number): Promise<void> {
    this.calls += 1;
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: stateChangeItem(useCase, key, change, keepDays),
      }),
    );
  }

  /**
   * The change at `position` (if recorded) and the newest change before it: what the key was at
   * that event's time, whatever was delivered since. One query.
   */
  async stateChangesAround(useCase: string, key: string, position: ChangePosition): Promise<{ own?: StateChange; prior?: StateChange }> {
    this.calls += 1;
    const own = changeSortKey(position);
    const { Items = [] } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': snapshotPartition(useCase, key), ':from': CHANGE_PREFIX, ':to': own },
        ScanIndexForward: false,
        Limit: 2,
        ConsistentRead: true,
      }),
    );
    const [first, second] = Items;
    if (first && first['sk'] === own) return { own: toStateChange(first), ...(second ? { prior: toStateChange(second) } : {}) };
    return first ? { prior: toStateChange(first) } : {};
  }

  /** The newest change at or before `at` (ISO event time): the key's state at that time, as known. */
  async stateChangeAtOrBefore(useCase: string, key: string, at: string): Promise<StateChange | undefined> {
    this.calls += 1;
    const { Items = [] } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': snapshotPartition(useCase, key), ':from': CHANGE_PREFIX, ':to': `${CHANGE_PREFIX}${timeKey(at)}|\uffff` },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    return Items[0] ? toStateChange(Items[0]) : undefined;
  }

  /** Changes after `after` up to and including `upTo`, oldest first (what a late event must not overwrite). */
  async stateChangesBetween(useCase: string, key: string, after: ChangePosition, upTo: ChangePosition): Promise<StateChange[]> {
    const items = await this.queryItems('pk = :pk AND sk BETWEEN :from AND :to', 'attribute_exists(eventId)', {
      ':pk': snapshotPartition(useCase, key),
      ':from': `${changeSortKey(after)}\u0000`,
      ':to': changeSortKey(upTo),
    });
    return items.map(toStateChange);
  }

  /**
   * When the use case started evaluating events (its staging days count from there): the earliest
   * event time registers it, so replaying history behaves like living through it. One conditional
   * write per use case and container, then only for events older than the one remembered.
   */
  async enabledSince(useCase: string, at: string): Promise<string> {
    const key = { [STATE_TABLE.partitionKey]: `${useCase}#enabled`, [STATE_TABLE.sortKey]: '#enabled' };
    const cached = this.enabled.get(useCase);
    if (cached && Date.parse(cached) <= Date.parse(at)) return cached;
    try {
      this.calls += 1;
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET since = :at, sinceEpoch = :epoch',
          ConditionExpression: 'attribute_not_exists(pk) OR sinceEpoch > :epoch',
          ExpressionAttributeValues: { ':at': at, ':epoch': Date.parse(at) },
        }),
      );
      this.enabled.set(useCase, at);
      return at;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      this.calls += 1;
      const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
      const since = typeof Item?.['since'] === 'string' ? Item['since'] : at;
      this.enabled.set(useCase, since);
      return since;
    }
  }

  /** The dedup window of (use case, key), if one was ever opened (expired ones included: the caller judges). */
  async getDedupWindow(useCase: string, key: string): Promise<DedupWindow | undefined> {
    this.calls += 1;
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: dedupPartition(useCase, key), sk: '#window' }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      findingId: String(Item['findingId']),
      firstEventId: String(Item['firstEventId']),
      start: String(Item['start']),
      windowMinutes: Number(Item['windowMinutes'] ?? 0),
      version: Number(Item['version'] ?? 0),
    };
  }

  /**
   * Opens (or replaces) the window of (use case, key) with a first finding. Optimistic: false when
   * another writer changed the window since `expectedVersion` was read (undefined: none existed).
   */
  async putDedupWindow(useCase: string, key: string, window: Omit<DedupWindow, 'version'>, expectedVersion: number | undefined): Promise<boolean> {
    return this.putVersioned(
      {
        pk: dedupPartition(useCase, key),
        sk: '#window',
        ...window,
        version: (expectedVersion ?? 0) + 1,
        expiresAt: windowExpiry(window.start, window.windowMinutes),
      },
      expectedVersion,
    );
  }

  /**
   * Keeps a window opened (called once `putDedupWindow` succeeded): the current window item is
   * replaced by newer ones, so a late event finds the window of its own time here.
   */
  async recordDedupWindow(useCase: string, key: string, window: Omit<DedupWindow, 'version'>): Promise<void> {
    this.calls += 1;
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: dedupPartition(useCase, key), sk: `w|${timeKey(window.start)}|${window.findingId}`, ...window, expiresAt: windowExpiry(window.start, window.windowMinutes) },
      }),
    );
  }

  /** Windows of (use case, key) that opened within `windowMinutes` of `at`, oldest first. */
  async dedupWindowsAround(useCase: string, key: string, at: string, windowMinutes: number): Promise<Array<Omit<DedupWindow, 'version'>>> {
    const ms = Date.parse(at);
    const span = windowMinutes * 60_000;
    const items = await this.queryItems('pk = :pk AND sk BETWEEN :from AND :to', 'attribute_exists(findingId)', {
      ':pk': dedupPartition(useCase, key),
      ':from': `w|${timeKey(new Date(Math.max(0, ms - span)).toISOString())}`,
      ':to': `w|${timeKey(new Date(ms + span).toISOString())}|\uffff`,
    });
    return items.map((item) => ({
      findingId: String(item['findingId']),
      firstEventId: String(item['firstEventId']),
      start: String(item['start']),
      windowMinutes: Number(item['windowMinutes'] ?? 0),
    }));
  }

  /** Optimistic write of a versioned item: created when absent, replaced only at the version read. */
  private async putVersioned(item: Record<string, unknown>, expectedVersion: number | undefined): Promise<boolean> {
    try {
      this.calls += 1;
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          // Snapshots and windows carry event text: never over DynamoDB's item limit.
          Item: fitItem(item, ['pk', 'sk', 'version']),
          ConditionExpression: expectedVersion === undefined ? 'attribute_not_exists(pk)' : 'version = :expected',
          ...(expectedVersion === undefined ? {} : { ExpressionAttributeValues: { ':expected': expectedVersion } }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }


  /**
   * Marks a repeat as counted in `window`: true the first time, false for a redelivery of the same
   * repeat (so an at-least-once delivery never counts it twice).
   */
  async markRepeat(useCase: string, key: string, repeatId: string, window: Pick<DedupWindow, 'findingId' | 'start' | 'windowMinutes'>): Promise<RepeatMark> {
    const pk = dedupPartition(useCase, key);
    const sk = `o|${repeatId}`;
    try {
      this.calls += 1;
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk, sk, into: window.findingId, expiresAt: windowExpiry(window.start, window.windowMinutes) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { fresh: true, into: window.findingId };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    // Marked before (a redelivery, or a retry of a write whose answer was lost): where it was counted.
    this.calls += 1;
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk, sk }, ConsistentRead: true }));
    const into = Item?.['into'];
    return typeof into === 'string' ? { fresh: false, into } : { fresh: false };
  }

  /**
   * Keeps a correlate record until forget-after (from its event time), findable by time and by each
   * of its keys: one small item per access path, since the table has no secondary index for it, all
   * written by one BatchWriteItem. Every item carries the whole record, so whichever item a reader
   * finds tells the same; the items may land in any order (the batch is not atomic), which is why a
   * record has as few items as it has ways to be found (`names` get none: see CorrelationRecord).
   */
  async putCorrelationRecord(useCase: string, record: StoredCorrelationRecord, forgetAfterDays: number): Promise<void> {
    // Unconditional: a redelivered event writes the same items again.
    await this.batchPut(correlationRecordItems(useCase, record, forgetAfterDays));
  }

  /**
   * Unconditional puts in BatchWriteItem requests of up to 25, retrying what DynamoDB leaves
   * unprocessed (throttling) with a growing pause; throws if some never land, so the event is retried.
   */
  private async batchPut(items: readonly Record<string, unknown>[]): Promise<void> {
    for (let start = 0; start < items.length; start += BATCH_WRITE_LIMIT) {
      let pending: Record<string, unknown>[] = items.slice(start, start + BATCH_WRITE_LIMIT).map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        if (attempt >= BATCH_WRITE_ATTEMPTS) throw new Error(`state table: ${pending.length} item(s) left unprocessed after ${BATCH_WRITE_ATTEMPTS} batch writes`);
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
        this.calls += 1;
        const { UnprocessedItems } = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
        pending = (UnprocessedItems?.[this.tableName] ?? []) as Record<string, unknown>[];
      }
    }
  }

  /** The records of a join key holding `key`, not forgotten at `at`. */
  async correlationRecordsWithKey(useCase: string, join: string, key: string, at: string): Promise<StoredCorrelationRecord[]> {
    const items = await this.queryItems('pk = :pk AND begins_with(sk, :prefix)', 'expiresAt >= :now', {
      ':pk': `${useCase}#rec#${join}`,
      ':prefix': `k|${keyPart(key, 256)}|`,
      ':now': epochSeconds(at),
    });
    return items.map(toStoredRecord);
  }

  /** The records of a join key recorded between `from` and `to` (ISO, inclusive), not forgotten at `at`. */
  async correlationRecordsBetween(useCase: string, join: string, from: string, to: string, at: string): Promise<StoredCorrelationRecord[]> {
    const items = await this.queryItems('pk = :pk AND sk BETWEEN :from AND :to', 'expiresAt >= :now', {
      ':pk': `${useCase}#rec#${join}`,
      ':from': `t|${from}`,
      ':to': `t|${to}|\uffff`,
      ':now': epochSeconds(at),
    });
    return items.map(toStoredRecord);
  }

  /**
   * Records a pending correlate check. A redelivered claim finds its item already there (open or
   * settled) and leaves it alone, so a settled check is never reopened.
   */
  async putPendingCheck(useCase: string, check: PendingCheck): Promise<void> {
    try {
      this.calls += 1;
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: pendingCheckItem(useCase, check),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /**
   * Open (unsettled) checks of a use case: all of them, or those of one join key claimed between
   * `from` and `to` (ISO, inclusive); with `keys`, only those that want one of them or did not say
   * what they want (filtered by DynamoDB: the response carries only those).
   */
  async openPendingChecks(useCase: string, range?: { join: string; from: string; to: string; keys?: readonly string[] }): Promise<PendingCheck[]> {
    const keys = pendingFilterKeys(range?.keys);
    const wanted = keys ? ` AND (attribute_not_exists(wants)${keys.map((_, i) => ` OR contains(wants, :k${i})`).join('')})` : '';
    const items = range
      ? await this.queryItems('pk = :pk AND sk BETWEEN :from AND :to', `attribute_not_exists(settledAt)${wanted}`, {
          ':pk': `${useCase}#pending`,
          ':from': `${range.join}|${range.from}`,
          ':to': `${range.join}|${range.to}|\uffff`,
          ...Object.fromEntries((keys ?? []).map((key, i) => [`:k${i}`, key])),
        })
      : await this.queryItems('pk = :pk', 'attribute_not_exists(settledAt)', { ':pk': `${useCase}#pending` });
    return items.map(toPendingCheck);
  }

  /**
   * Marks a check settled (kept a day for audit, then TTL): no DeleteItem, so the detector's grants
   * stay as they are. False when another worker settled it first.
   */
  async settlePendingCheck(useCase: string, check: PendingCheck, at: string): Promise<boolean> {
    try {
      this.calls += 1;
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `${useCase}#pending`, sk: pendingSortKey(check) },
          UpdateExpression: 'SET settledAt = :at, expiresAt = :exp',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(settledAt)',
          ExpressionAttributeValues: { ':at': at, ':exp': epochSeconds(at) + DAY_SECONDS },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  private async queryItems(keyCondition: string, filter: string, values: Record<string, unknown>): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      this.calls += 1;
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: keyCondition,
          FilterExpression: filter,
          ExpressionAttributeValues: values,
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}

/** A correlate claim waiting for its other side. */
export interface PendingCheck {
  readonly claim: CorrelationClaim;
  readonly claimedAt: string;
  readonly deadline: string;
  readonly eventId: string;
  /** A slim copy of the claim's event (envelope and identity, no request parameters), to report it later. */
  readonly event: Record<string, unknown>;
}

/** Dedup keys come from events: hashed, so any length and character fits a partition key. */
export function dedupPartition(useCase: string, key: string): string {
  return `${useCase}#dedup|${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
}

/** A window's items outlive it by a day (TTL), so late repeats still find it. */
export function windowExpiry(start: string, windowMinutes: number): number {
  return epochSeconds(start) + windowMinutes * 60 + DAY_SECONDS;
}

export function pendingSortKey(check: PendingCheck): string {
  return `${check.claim.join}|${check.claimedAt}|${keyPart(check.claim.subject, 256)}|${keyPart(check.eventId, 128)}`;
}

/**
 * A drift key's change-log item, as both stores write it: kept keepDays from its event time (TTL; the
 * head outlives them, and the engine falls back on it), masked and bounded like the head, and fitted
 * under DynamoDB's 400 KB whatever the event held.
 */
export function stateChangeItem(useCase: string, key: string, change: StateChange, keepDays: number): Record<string, unknown> {
  return fitItem(
    {
      pk: snapshotPartition(useCase, key),
      sk: changeSortKey(change),
      ...change,
      ...(change.report !== undefined ? { report: storableState(change.report) } : {}),
      after: storableState(change.after),
      expiresAt: epochSeconds(change.at) + keepDays * DAY_SECONDS,
    },
    ['pk', 'sk', 'at', 'eventId', 'kind', 'partial', 'expiresAt'],
  );
}

/**
 * The items of a correlate record, as both stores write them: one per key (`k|`) and one by time
 * (`t|`), each carrying the whole record (bounded and redacted).
 */
export function correlationRecordItems(useCase: string, record: StoredCorrelationRecord, forgetAfterDays: number): Record<string, unknown>[] {
  const pk = `${useCase}#rec#${record.join}`;
  const item = {
    id: record.id,
    join: record.join,
    at: record.at,
    keys: [...record.keys],
    ...(record.names && record.names.length > 0 ? { names: [...record.names] } : {}),
    data: boundStrings(redact(record.data)),
    expiresAt: epochSeconds(record.at) + forgetAfterDays * DAY_SECONDS,
  };
  const id = keyPart(record.id, 128);
  const sortKeys = [...[...new Set(record.keys)].map((key) => `k|${keyPart(key, 256)}|${id}`), `t|${record.at}|${id}`];
  return sortKeys.map((sk) => fitItem({ pk, sk, ...item }, ['pk', 'sk']));
}

/**
 * The keys a pending-check query filters on, bounded: above MAX_PENDING_FILTER_KEYS the filter would
 * outgrow DynamoDB's 4 KB expression, so every open check is returned (callers check `wants` themselves).
 */
export const MAX_PENDING_FILTER_KEYS = 50;
export function pendingFilterKeys(keys: readonly string[] | undefined): string[] | undefined {
  if (!keys) return undefined;
  const bounded = [...new Set(keys.map((key) => keyPart(key, 256)))];
  return bounded.length <= MAX_PENDING_FILTER_KEYS ? bounded : undefined;
}

/** A pending check's item, as both stores write it. */
export function pendingCheckItem(useCase: string, check: PendingCheck): Record<string, unknown> {
  return fitItem(
    {
      pk: `${useCase}#pending`,
      sk: pendingSortKey(check),
      join: check.claim.join,
      subject: check.claim.subject,
      data: boundStrings(redact(check.claim.data)),
      // What can settle it before its deadline (absent: any record of its join).
      ...(check.claim.wants ? { wants: check.claim.wants.map((key) => keyPart(key, 256)) } : {}),
      claimedAt: check.claimedAt,
      deadline: check.deadline,
      eventId: check.eventId,
      event: boundStrings(redact(check.event)),
      // Unsettled checks outlive their deadline by a week: the sweep settles them long before.
      expiresAt: epochSeconds(check.deadline) + 7 * DAY_SECONDS,
    },
    ['pk', 'sk', 'join', 'subject', 'wants', 'claimedAt', 'deadline', 'eventId', 'expiresAt'],
  );
}

export function toPendingCheck(item: Record<string, unknown>): PendingCheck {
  return {
    claim: {
      join: String(item['join']),
      subject: String(item['subject']),
      data: (item['data'] ?? {}) as JsonObject,
      ...(Array.isArray(item['wants']) ? { wants: item['wants'].map(String) } : {}),
    },
    claimedAt: String(item['claimedAt']),
    deadline: String(item['deadline']),
    eventId: String(item['eventId']),
    event: (item['event'] ?? {}) as Record<string, unknown>,
  };
}

export function toStoredRecord(item: Record<string, unknown>): StoredCorrelationRecord {
  return {
    join: String(item['join']),
    id: String(item['id']),
    at: String(item['at']),
    keys: Array.isArray(item['keys']) ? item['keys'].map(String) : [],
    data: (item['data'] ?? {}) as JsonObject,
  };
}

/** Snapshot keys name resources from events: bounded to fit DynamoDB's 2048-byte partition key. */
export function snapshotPartition(useCase: string, key: string): string {
  return `${useCase}#${keyPart(key, 1024)}`;
}
