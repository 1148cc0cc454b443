/**
 * The state store: first-seen baselines, scope metadata (start of learning) and drift snapshots,
 * on DynamoDB through an injected document client.
 *
 * Layout (one table, pk/sk):
 *   value     pk = <useCase>#<scope>   sk = v#<value>   firstSeen, lastSeen, lastSeenEpoch, expiresAt, seenDays, firstEventId
 *   scope     pk = <useCase>#<scope>   sk = #scope      watchedSince
 *   snapshot  pk = <useCase>#<key>     sk = #snapshot   state, previous, version, updatedAt, lastEventId
 * Times are event times, never the wall clock, so replaying history behaves like living through it.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { JsonObject } from '../engine/use-case.js';
import { STATE_TABLE } from './schema.js';

const DAY_SECONDS = 86_400;

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

export interface Snapshot {
  readonly state: JsonObject;
  /** The state before the last change, so a redelivered event can rebuild its diff. */
  readonly previous?: JsonObject;
  readonly version: number;
  readonly updatedAt: string;
  readonly lastEventId: string;
}

interface CachedValue {
  lastSeenEpoch: number;
  expiresAt: number;
  firstEventId?: string;
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

export function epochSeconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

export class StateStore {
  private readonly values = new BoundedCache<CachedValue>(20_000);
  private readonly scopes = new BoundedCache<string>(5_000);
  /** DynamoDB requests made, for the benchmark's calls-per-event figure. */
  calls = 0;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Records that `value` was seen in `scope` and says whether it is new, with ONE conditional write:
   * it succeeds when the item is absent, expired, due a lastSeen refresh (at most daily) or written
   * by this same event; the old image then tells new from known.
   */
  async recordSighting(input: SightingInput): Promise<SightingResult> {
    const pk = `${input.useCase}#${input.scope}`;
    const sk = `v#${input.value}`;
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
          Key: { [STATE_TABLE.partitionKey]: pk, [STATE_TABLE.sortKey]: sk },
          UpdateExpression:
            'SET firstSeen = if_not_exists(firstSeen, :at), firstEventId = if_not_exists(firstEventId, :eventId), lastSeen = :at, lastSeenEpoch = :now, expiresAt = :exp ADD seenDays :one',
          ConditionExpression:
            'attribute_not_exists(pk) OR expiresAt < :now OR lastSeenEpoch < :refreshBefore OR firstEventId = :eventId',
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
      if (!old) {
        this.values.set(cacheKey, { lastSeenEpoch: now, expiresAt, firstEventId: input.eventId });
        return { status: 'new' };
      }
      if (typeof old['expiresAt'] === 'number' && old['expiresAt'] < now) {
        // Forgotten, now back: a fresh first sighting (rare, so a second write is fine).
        this.calls += 1;
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { [STATE_TABLE.partitionKey]: pk, [STATE_TABLE.sortKey]: sk },
            UpdateExpression: 'SET firstSeen = :at, firstEventId = :eventId, seenDays = :one',
            ExpressionAttributeValues: { ':at': input.at, ':eventId': input.eventId, ':one': 1 },
          }),
        );
        this.values.set(cacheKey, { lastSeenEpoch: now, expiresAt, firstEventId: input.eventId });
        return { status: 'new' };
      }
      const firstEventId = typeof old['firstEventId'] === 'string' ? old['firstEventId'] : undefined;
      this.values.set(cacheKey, { lastSeenEpoch: now, expiresAt, ...(firstEventId ? { firstEventId } : {}) });
      return firstEventId === input.eventId ? { status: 'new' } : { status: 'known' };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Known and refreshed within the last day: remember that conservatively.
      this.values.set(cacheKey, { lastSeenEpoch: now, expiresAt: expiresAt - DAY_SECONDS });
      return { status: 'known' };
    }
  }

  /** When watching `scope` began (start of its learning period); the earliest sighting registers it. */
  async scopeWatchedSince(useCase: string, scope: string, at: string): Promise<string> {
    const pk = `${useCase}#${scope}`;
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
          ExpressionAttributeValues: { ':pk': `${useCase}#${scope}`, ':prefix': 'v#', ':now': epochSeconds(at) },
          Select: 'COUNT',
          ExclusiveStartKey: startKey,
        }),
      );
      count += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return count;
  }

  async getSnapshot(useCase: string, key: string): Promise<Snapshot | undefined> {
    this.calls += 1;
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: `${useCase}#${key}`, sk: '#snapshot' }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      state: Item['state'] as JsonObject,
      ...(Item['previous'] ? { previous: Item['previous'] as JsonObject } : {}),
      version: Number(Item['version'] ?? 0),
      updatedAt: String(Item['updatedAt'] ?? ''),
      lastEventId: String(Item['lastEventId'] ?? ''),
    };
  }

  /** Optimistic write: false when someone else wrote a newer version first. */
  async putSnapshot(useCase: string, key: string, snapshot: Snapshot, expectedVersion: number | undefined): Promise<boolean> {
    try {
      this.calls += 1;
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `${useCase}#${key}`, sk: '#snapshot', ...snapshot },
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
}
