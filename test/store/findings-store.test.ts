import { describe, expect, it } from 'vitest';
import type { Finding } from '../../lambdas/engine/model.js';
import { useLocalDynamo } from '../support/local-dynamo.js';

const dynamo = useLocalDynamo();

function finding(id: string, eventTime: string): Finding {
  return {
    id,
    useCase: 'monitor.cloudtrail-tamper',
    answers: 'monitor.tamper',
    stage: 'monitor',
    severity: 'critical',
    mode: 'alert',
    title: 'CloudTrail logging stopped',
    summary: 'someone stopped logging',
    eventId: `evt-${id}`,
    eventTime,
    day: eventTime.slice(0, 10),
    principal: 'arn:aws:sts::111122223333:assumed-role/Admin/maint',
    dedupKey: 'org-trail|StopLogging',
    evidence: { nested: { list: [1, 'two', null] } },
    runbook: 'restart logging',
    recordedAt: '2026-11-01T00:00:00Z',
    contentHash: '0'.repeat(64),
  };
}

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
