import { describe, expect, it } from 'vitest';
import { expandInputPaths, readInputFile } from '../../lambdas/engine/normalise-input.js';
import { deliveredTo, route } from '../../lambdas/engine/router.js';
import type { EventBridgeEvent } from '../../lambdas/engine/events.js';
import type { UseCase } from '../../lambdas/engine/use-case.js';
import { useCases } from '../../lambdas/use-cases/index.js';

const ids = (list: readonly UseCase[]): string[] => list.map((useCase) => useCase.metadata.id);

async function sampleEvents(): Promise<EventBridgeEvent[]> {
  const { files } = await expandInputPaths(['samples/history']);
  const events: EventBridgeEvent[] = [];
  for (const file of files) events.push(...(await readInputFile(file)).events);
  return events;
}

function envelope(source: string, detail: Record<string, unknown>, detailType = 'AWS API Call via CloudTrail'): EventBridgeEvent {
  return { id: 'e1', 'detail-type': detailType, source, account: '111122223333', time: '2026-10-01T00:00:00Z', region: 'eu-west-1', resources: [], detail };
}

describe('route', () => {
  it('sends every sample event to exactly the use cases whose full pattern match takes it (the literal pre-filter rules out only misses)', async () => {
    const events = await sampleEvents();
    expect(events.length).toBeGreaterThan(1000);
    let routed = 0;
    for (const event of events) {
      const expected = useCases.filter((useCase) => deliveredTo(useCase, event));
      expect(ids(route(useCases, event))).toEqual(ids(expected));
      routed += expected.length;
    }
    expect(routed).toBeGreaterThan(0);
  });

  it('keeps patterns bounded only through $or branches or detail.eventSource, and events whose eventSource is not a string', () => {
    const cases = [
      // monitor.trail-archive-tamper names no source: its detail.$or bounds the event source.
      envelope('aws.s3', { eventSource: 's3.amazonaws.com', eventName: 'PutBucketPolicy', eventTime: '2026-10-01T00:00:00Z', eventID: 'x', requestParameters: { bucketName: 'trail-archive' } }),
      envelope('aws.kms', { eventSource: 'kms.amazonaws.com', eventName: 'DisableKey', eventTime: '2026-10-01T00:00:00Z', eventID: 'y' }),
      envelope('aws.kms', { eventSource: ['kms.amazonaws.com'], eventName: 'DisableKey', eventTime: '2026-10-01T00:00:00Z', eventID: 'z' }),
      envelope('aws.codebuild', { 'build-status': 'SUCCEEDED', 'project-name': 'app' }, 'CodeBuild Build State Change'),
    ];
    for (const event of cases) expect(ids(route(useCases, event))).toEqual(ids(useCases.filter((useCase) => deliveredTo(useCase, event))));
    expect(ids(route(useCases, cases[1] as EventBridgeEvent))).toContain('monitor.key-tamper');
  });
});
