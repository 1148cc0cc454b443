/**
 * What a ledger write costs in the findings table's keys-only by-day index (byDayKeys), which
 * dynalite does not charge: DynamoDB writes an index entry when a write puts an item into the index
 * or moves it (its index keys change), and the entry holds the index keys and the table key only.
 * A write that keeps an item's day and eventTime (an amendment) changes nothing the index holds:
 * no index write.
 */
import { FINDINGS_TABLE } from '../lambdas/store/schema.js';

/** DynamoDB's item size: each attribute's name plus its value, a string counted in UTF-8 bytes. */
function stringAttributeBytes(name: string, value: string): number {
  return Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value, 'utf8');
}

/** Write units of one index entry: 1 KB per unit, rounded up. */
export function keysOnlyEntryUnits(item: Readonly<Record<string, unknown>>): number {
  let bytes = 0;
  for (const name of [FINDINGS_TABLE.partitionKey, FINDINGS_TABLE.byDayPartitionKey, FINDINGS_TABLE.byDaySortKey]) {
    const value = item[name];
    if (typeof value === 'string') bytes += stringAttributeBytes(name, value);
  }
  return Math.max(1, Math.ceil(bytes / 1024));
}

/** The index keys last written for each finding id, so an overwrite that keeps them is not charged. */
export class KeysOnlyIndexWrites {
  private readonly indexed = new Map<string, string>();

  /** Records a successful write of `item`; returns the index write units it cost. */
  written(item: Readonly<Record<string, unknown>>): number {
    const id = item[FINDINGS_TABLE.partitionKey];
    const day = item[FINDINGS_TABLE.byDayPartitionKey];
    const time = item[FINDINGS_TABLE.byDaySortKey];
    if (typeof id !== 'string') return 0;
    // Without both index keys the item is not in the index (a sparse index).
    const keys = typeof day === 'string' && typeof time === 'string' ? `${day}\u0000${time}` : undefined;
    const before = this.indexed.get(id);
    if (keys === undefined) this.indexed.delete(id);
    else this.indexed.set(id, keys);
    if (keys === before) return 0;
    // Put in, or moved (a delete of the old entry and a put of the new one), or taken out.
    const moved = before !== undefined && keys !== undefined ? 2 : 1;
    return moved * keysOnlyEntryUnits(item);
  }
}
