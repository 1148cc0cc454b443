/**
 * A pk/sk table in process memory: per partition a map of items and their sort keys in DynamoDB's
 * order (binary search, so range queries cost log n plus what they return). Items are frozen stored
 * copies (stored-copy.ts): readers share them.
 *
 * Expiry works like DynamoDB's TTL, in event time: readers judge `expiresAt` themselves (as the
 * DynamoDB store's filters do), and items whose expiry lies more than TTL_LAG_SECONDS behind the
 * newest event time seen are dropped, so memory holds what is live. Changes not yet written to the
 * target are kept until flushed.
 *
 * Write-behind: changed items are written to the target table by `flush` (BatchWriteItem); unless
 * the target is known empty, a partition is read from it (Query) the first time it is touched.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { compareKeys } from './key-order.js';
import { storedCopy, storedInPlace, type CopyMemo } from './stored-copy.js';
import { batchPut, type Sleep, type WriteBehindTarget } from './write-behind.js';

export type Item = Readonly<Record<string, unknown>>;

/** DynamoDB's TTL deletes expired items within about 48 hours; nothing a reader may still see is dropped earlier. */
export const TTL_LAG_SECONDS = 2 * 86_400;
const SWEEP_EVERY_SECONDS = 3_600;

interface Partition {
  readonly items: Map<string, Item>;
  /** Sort keys in DynamoDB order. */
  readonly keys: string[];
}

export interface RangeOptions {
  /** Newest first (ScanIndexForward: false). */
  readonly reverse?: boolean;
  /** Items read before any filter, as DynamoDB's Limit. */
  readonly limit?: number;
}

export class ItemTable {
  /** DynamoDB requests made (read-throughs and flushes). */
  calls = 0;
  private readonly partitions = new Map<string, Partition>();
  private readonly loading = new Map<string, Promise<Partition>>();
  /** Changed since the last flush, by pk and sk. */
  private readonly dirty = new Map<string, Item>();
  /** (pk, sk) by the hour their item expires; checked against the item when swept. */
  private readonly expiring = new Map<number, Array<readonly [string, string]>>();
  private newestSeconds = 0;
  private sweptAt = 0;

  constructor(
    private readonly target: WriteBehindTarget | undefined,
    private readonly pause?: Sleep,
  ) {}

  /**
   * The partition when it is in memory already, else undefined (then `partition` reads it): callers
   * take it without an await, which every store call would otherwise pay.
   */
  known(pk: string): Partition | undefined {
    return this.partitions.get(pk);
  }

  /** The partition, read from the target on first touch when it may hold data. */
  async partition(pk: string): Promise<Partition> {
    const known = this.partitions.get(pk);
    if (known) return known;
    const target = this.target;
    if (!target || target.empty) return this.created(pk);
    let loading = this.loading.get(pk);
    if (!loading) {
      loading = this.load(target, pk).finally(() => this.loading.delete(pk));
      this.loading.set(pk, loading);
    }
    return loading;
  }

  private created(pk: string): Partition {
    const partition: Partition = { items: new Map(), keys: [] };
    this.partitions.set(pk, partition);
    return partition;
  }

  private async load(target: WriteBehindTarget, pk: string): Promise<Partition> {
    const found: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      this.calls += 1;
      const page = await target.doc.send(
        new QueryCommand({ TableName: target.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true, ExclusiveStartKey: startKey }),
      );
      found.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    const partition = this.partitions.get(pk) ?? this.created(pk);
    for (const item of found) {
      const sk = String(item['sk']);
      if (!partition.items.has(sk)) this.place(partition, pk, sk, storedCopy(item));
    }
    return partition;
  }

  get(partition: Partition, sk: string): Item | undefined {
    return partition.items.get(sk);
  }

  /**
   * Writes (creates or replaces) an item; `item` must carry pk and sk. The table takes `item` over
   * (frozen as it is; what it refers to is copied): callers pass objects they have just built.
   * Items written together pass one `memo`, so parts they share are copied once.
   */
  put(partition: Partition, item: Record<string, unknown>, memo?: CopyMemo): Item {
    const stored = storedInPlace(item, memo);
    const pk = String(stored['pk']);
    const sk = String(stored['sk']);
    this.place(partition, pk, sk, stored);
    if (this.target) this.dirty.set(`${pk}\u0000${sk}`, stored);
    return stored;
  }

  private place(partition: Partition, pk: string, sk: string, item: Item): void {
    if (!partition.items.has(sk)) partition.keys.splice(this.lowerBound(partition.keys, sk), 0, sk);
    partition.items.set(sk, item);
    const expiresAt = item['expiresAt'];
    if (typeof expiresAt === 'number' && Number.isFinite(expiresAt)) {
      const hour = Math.floor(expiresAt / SWEEP_EVERY_SECONDS);
      let bucket = this.expiring.get(hour);
      if (!bucket) this.expiring.set(hour, (bucket = []));
      bucket.push([pk, sk]);
    }
  }

  /** Items with from <= sk <= to, in sort-key order (or reversed). */
  range(partition: Partition, from: string, to: string, options: RangeOptions = {}): Item[] {
    const { keys, items } = partition;
    const start = this.lowerBound(keys, from);
    const end = this.upperBound(keys, to);
    const out: Item[] = [];
    const limit = options.limit ?? Infinity;
    if (options.reverse) {
      for (let index = end - 1; index >= start && out.length < limit; index -= 1) out.push(items.get(keys[index] as string) as Item);
    } else {
      for (let index = start; index < end && out.length < limit; index += 1) out.push(items.get(keys[index] as string) as Item);
    }
    return out;
  }

  /** Items whose sort key begins with `prefix`, in order. */
  withPrefix(partition: Partition, prefix: string): Item[] {
    const { keys, items } = partition;
    const out: Item[] = [];
    for (let index = this.lowerBound(keys, prefix); index < keys.length && (keys[index] as string).startsWith(prefix); index += 1) {
      out.push(items.get(keys[index] as string) as Item);
    }
    return out;
  }

  all(partition: Partition): Item[] {
    return partition.keys.map((sk) => partition.items.get(sk) as Item);
  }

  /** The newest event time (epoch seconds) the store has seen: expired items well behind it are dropped. */
  advance(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds <= this.newestSeconds) return;
    this.newestSeconds = seconds;
    if (seconds - this.sweptAt >= SWEEP_EVERY_SECONDS) this.sweep(seconds - TTL_LAG_SECONDS);
  }

  private sweep(cutoff: number): void {
    this.sweptAt = this.newestSeconds;
    const lastHour = Math.floor(cutoff / SWEEP_EVERY_SECONDS);
    for (const [hour, entries] of this.expiring) {
      if (hour >= lastHour) continue;
      this.expiring.delete(hour);
      for (const [pk, sk] of entries) {
        const partition = this.partitions.get(pk);
        const item = partition?.items.get(sk);
        const expiresAt = item?.['expiresAt'];
        if (!partition || typeof expiresAt !== 'number' || expiresAt >= cutoff) continue;
        partition.items.delete(sk);
        partition.keys.splice(this.lowerBound(partition.keys, sk), 1);
      }
    }
  }

  /** Changes not yet written to the target. */
  get pendingWrites(): number {
    return this.dirty.size;
  }

  /** Writes every item changed since the last flush to the target (nothing without one). */
  async flush(): Promise<void> {
    if (!this.target || this.dirty.size === 0) return;
    const batch = [...this.dirty.entries()];
    this.dirty.clear();
    try {
      this.calls += await batchPut(this.target, batch.map(([, item]) => item), this.pause);
    } catch (error) {
      // Kept for the next flush, unless changed again meanwhile.
      for (const [key, item] of batch) if (!this.dirty.has(key)) this.dirty.set(key, item);
      throw error;
    }
  }

  /** The first index whose key sorts after `key` (`inclusive`: at or after it). */
  private bound(keys: readonly string[], key: string, inclusive: boolean): number {
    let low = 0;
    let high = keys.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const order = compareKeys(keys[middle] as string, key);
      if (order < 0 || (!inclusive && order === 0)) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private lowerBound(keys: readonly string[], key: string): number {
    return this.bound(keys, key, true);
  }

  private upperBound(keys: readonly string[], key: string): number {
    return this.bound(keys, key, false);
  }
}
