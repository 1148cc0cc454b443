/** The bench's charge for the findings table's keys-only index (bench/keys-only-index.ts), by DynamoDB's rules. */
import { describe, expect, it } from 'vitest';
import { keysOnlyEntryUnits, KeysOnlyIndexWrites } from '../../bench/keys-only-index.js';

const item = (id: string, eventTime: string, extra: Record<string, unknown> = {}) => ({ id, day: eventTime.slice(0, 10), eventTime, ...extra });

describe('keys-only index write units', () => {
  it('sizes an entry by its index keys and table key only, whatever else the item holds', () => {
    expect(keysOnlyEntryUnits(item('f'.repeat(32), '2026-10-26T03:10:00Z', { evidence: 'x'.repeat(3_000) }))).toBe(1);
    // 2 + 1000 (id) + 3 + 10 (day) + 9 + 20 (eventTime) bytes: over 1 KB.
    expect(keysOnlyEntryUnits(item('é'.repeat(500), '2026-10-26T03:10:00Z'))).toBe(2);
  });

  it('charges putting an item into the index and moving it, not an overwrite that keeps its keys', () => {
    const index = new KeysOnlyIndexWrites();
    expect(index.written(item('f1', '2026-10-26T03:10:00Z'))).toBe(1);
    expect(index.written(item('f1', '2026-10-26T03:10:00Z', { occurrences: 2 }))).toBe(0);
    expect(index.written(item('f1', '2026-10-26T04:00:00Z'))).toBe(2);
    expect(index.written({ id: 'f1' })).toBe(1);
    expect(index.written({ id: 'f1' })).toBe(0);
    expect(index.written(item('f2', '2026-10-26T03:10:00Z'))).toBe(1);
  });
});
