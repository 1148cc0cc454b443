/** Ledger records for the ledger and CLI tests, with real content hashes. */
import { contentHashOf } from '../../lambdas/engine/canonical.js';
import type { Finding } from '../../lambdas/engine/model.js';

export function record(overrides: Partial<Omit<Finding, 'contentHash'>> = {}): Finding {
  const eventTime = overrides.eventTime ?? '2026-10-25T03:10:00Z';
  const content: Omit<Finding, 'contentHash'> = {
    id: 'f0000000000000000000000000000001',
    useCase: 'monitor.cloudtrail-tamper',
    answers: 'monitor.tamper',
    stage: 'monitor',
    severity: 'critical',
    mode: 'alert',
    title: 'CloudTrail logging stopped',
    summary: 'arn:aws:sts::111122223333:assumed-role/Admin/maint stopped logging on org-trail',
    eventId: 'e1f0c6a2-0000-4000-8000-000000000001',
    eventTime,
    day: eventTime.slice(0, 10),
    principal: 'arn:aws:sts::111122223333:assumed-role/Admin/maint',
    account: '111122223333',
    region: 'eu-west-1',
    resource: 'arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-trail',
    sourceIp: '203.0.113.9',
    userAgent: 'aws-cli/2.15.0',
    dedupKey: 'org-trail|StopLogging',
    evidence: { eventName: 'StopLogging', eventSource: 'cloudtrail.amazonaws.com', trail: 'org-trail', nested: { list: [1, 'two', null] } },
    runbook: 'Restart logging, then find out who stopped it and why.',
    team: 'platform',
    recordedAt: '2026-10-25T03:10:04.120Z',
    ...overrides,
  };
  return { ...content, contentHash: contentHashOf(content) };
}

/** n records spread over the given days (ids sortable, event times within each day). */
export function records(n: number, days: readonly string[], overrides: (i: number) => Partial<Omit<Finding, 'contentHash'>> = () => ({})): Finding[] {
  return Array.from({ length: n }, (_, i) => {
    const day = days[i % days.length]!;
    const seconds = String(i % 60).padStart(2, '0');
    const minutes = String(Math.floor(i / 60) % 60).padStart(2, '0');
    return record({
      id: `r${String(i).padStart(31, '0')}`,
      eventId: `evt-${i}`,
      eventTime: `${day}T10:${minutes}:${seconds}Z`,
      mode: i % 3 === 2 ? 'attest' : 'alert',
      ...overrides(i),
    });
  });
}
