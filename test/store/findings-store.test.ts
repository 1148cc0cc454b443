import { describe, expect, it } from 'vitest';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { finding } from './conformance/kits.js';

const dynamo = useLocalDynamo();

describe('FindingsStore', () => {
  it('writes a finding once: a second put of the same id is a no-op', async () => {
    const { findings } = await dynamo.freshStores();
    expect(await findings.put(finding('f1', '2026-10-26T03:10:00Z'))).toBe('created');
    expect(await findings.put({ ...finding('f1', '2026-10-26T03:10:00Z'), summary: 'changed' })).toBe('duplicate');
    expect((await findings.get('f1'))?.summary).toBe('someone stopped logging');
  });

  it('reads one day in event-time order through the byDay index', async () => {
    const { findings } = await dynamo.freshStores();
    await findings.put(finding('late', '2026-10-26T23:00:00Z'));
    await findings.put(finding('early', '2026-10-26T01:00:00Z'));
    await findings.put(finding('other-day', '2026-10-27T01:00:00Z'));
    const day: string[] = [];
    for await (const item of findings.byDay('2026-10-26')) day.push(item.id);
    expect(day).toEqual(['early', 'late']);
  });
});
