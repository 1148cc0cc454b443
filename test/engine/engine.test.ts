import { describe, expect, it } from 'vitest';
import { envelopeForCloudTrail, type CloudTrailRecord } from '../../lambdas/engine/events.js';
import { toPipelineEvent } from '../../lambdas/engine/pipeline-event.js';
import { defineUseCase, type UseCase } from '../../lambdas/engine/use-case.js';
import type { BuildwatchConfigInput } from '../../lambdas/config/config.js';
import newPusher from '../../lambdas/use-cases/source/new-pusher/use-case.js';
import projectDrift from '../../lambdas/use-cases/build/project-drift/use-case.js';
import { useLocalDynamo } from '../support/local-dynamo.js';

const dynamo = useLocalDynamo();

function record(overrides: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  return {
    eventVersion: '1.09',
    eventTime: '2026-10-20T10:00:00Z',
    eventSource: 'codecommit.amazonaws.com',
    eventName: 'DeleteRepository',
    awsRegion: 'eu-west-1',
    eventID: 'e0000000-0000-4000-8000-000000000001',
    eventType: 'AwsApiCall',
    recipientAccountId: '111122223333',
    sourceIPAddress: '198.51.100.7',
    userAgent: 'aws-cli/2.15.0',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/bob', accountId: '111122223333', userName: 'bob' },
    requestParameters: { repositoryName: 'payments-service' },
    ...overrides,
  };
}

/** A small stateless use case that reports every event it is given. */
const probe: UseCase = defineUseCase({
  metadata: {
    id: 'source.probe',
    answers: 'source.protection-change',
    title: 'Probe use case for engine tests',
    stage: 'source',
    description: 'Reports every event, so the policy layer can be observed.',
    severity: 'medium',
    defaultMode: 'alert',
    riskReduction: 1,
    effort: 1,
    mitre: ['T1485'],
    falsePositives: ['none'],
    runbook: 'nothing to do, it is a probe',
  },
  pattern: { source: ['aws.codecommit'] },
  logic: {
    kind: 'match',
    evaluate: (event) => ({
      summary: `saw ${event.cloudTrail?.eventName}`,
      resource: 'payments-service',
      evidence: { environmentVariables: [{ name: 'API_KEY', value: 'supersecretvalue123', type: 'PLAINTEXT' }], big: 'x'.repeat(200_000) },
    }),
  },
});

async function evaluate(config: BuildwatchConfigInput, rec: CloudTrailRecord, useCase: UseCase = probe) {
  const { engine, findings } = await dynamo.freshEngine(config);
  return { outcomes: await engine.evaluate(useCase, toPipelineEvent(envelopeForCloudTrail(rec))), engine, findings };
}

describe('Engine policy layer', () => {
  it('turns an observation into a finding with the contract fields', async () => {
    const { outcomes } = await evaluate({ routing: { teams: { payments: { repositories: ['payments-service'] } } } }, record());
    const [outcome] = outcomes;
    expect(outcome?.status).toBe('finding');
    if (outcome?.status !== 'finding') return;
    expect(outcome.created).toBe(true);
    expect(outcome.finding).toMatchObject({
      useCase: 'source.probe',
      answers: 'source.protection-change',
      stage: 'source',
      severity: 'medium',
      mode: 'alert',
      eventId: 'e0000000-0000-4000-8000-000000000001',
      eventTime: '2026-10-20T10:00:00Z',
      day: '2026-10-20',
      principal: 'arn:aws:iam::111122223333:user/bob',
      account: '111122223333',
      region: 'eu-west-1',
      sourceIp: '198.51.100.7',
      team: 'payments',
    });
    expect(outcome.finding.id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('masks secrets and bounds oversized evidence before storing', async () => {
    const { outcomes } = await evaluate({}, record());
    const stored = JSON.stringify(outcomes);
    expect(stored).not.toContain('supersecretvalue123');
    expect(stored.length).toBeLessThan(40_000);
  });

  it('stores a redelivered event once', async () => {
    const { engine } = await dynamo.freshEngine({});
    const event = toPipelineEvent(envelopeForCloudTrail(record()));
    const first = await engine.evaluate(probe, event);
    const second = await engine.evaluate(probe, event);
    expect(first[0]?.status === 'finding' && first[0].created).toBe(true);
    expect(second[0]?.status === 'finding' && second[0].created).toBe(false);
  });

  it.each([
    ['mode off', { useCases: { 'source.probe': { mode: 'off' as const } } }, record(), 'use case is off'],
    ['failed calls', {}, record({ errorCode: 'AccessDenied' }), 'failed call (AccessDenied)'],
    ['AWS service principals', {}, record({ userIdentity: { type: 'AWSService', invokedBy: 'codepipeline.amazonaws.com' } }), 'AWS service principal (service:codepipeline.amazonaws.com)'],
    ['configured exclusions', { useCases: { 'source.probe': { excludePrincipals: ['arn:aws:iam::111122223333:user/*'] } } }, record(), 'principal excluded by configuration'],
    [
      'an active suppression',
      { suppressions: [{ useCase: 'source.probe', principal: 'arn:aws:iam::111122223333:user/bob', expires: '2026-10-31', reason: 'repository migration' }] },
      record(),
      'suppressed until 2026-10-31: repository migration',
    ],
  ])('skips %s', async (_name, config, rec, reason) => {
    const { outcomes } = await evaluate(config, rec);
    expect(outcomes).toEqual([{ status: 'skipped', useCase: 'source.probe', reason }]);
  });

  it('stops applying a suppression after its expiry date', async () => {
    const { outcomes } = await evaluate(
      { suppressions: [{ useCase: 'source.probe', expires: '2026-10-19', reason: 'expired window' }] },
      record(),
    );
    expect(outcomes[0]?.status).toBe('finding');
  });

  it('applies configured mode and severity overrides', async () => {
    const { outcomes } = await evaluate({ useCases: { 'source.probe': { mode: 'attest', severity: 'low' } } }, record());
    expect(outcomes[0]).toMatchObject({ status: 'finding', finding: { mode: 'attest', severity: 'low' } });
  });
});

describe('Engine stateful kinds', () => {
  const push = (id: string, time: string, user: string) =>
    record({
      eventName: 'GitPush',
      eventID: id,
      eventTime: time,
      userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::111122223333:user/${user}`, accountId: '111122223333', userName: user },
      requestParameters: { references: [{ commit: 'abc', ref: 'refs/heads/main' }] },
      additionalEventData: { repositoryName: 'payments-service', dataTransferred: true },
    });

  it('firstSeen: a redelivered first push yields the same finding, stored once', async () => {
    const { engine } = await dynamo.freshEngine({ defaults: { learningDays: 0, forgetAfterDays: 90 } });
    const event = toPipelineEvent(envelopeForCloudTrail(push('p1', '2026-10-20T10:00:00Z', 'mallory')));
    const first = await engine.evaluate(newPusher, event);
    const again = await engine.evaluate(newPusher, event);
    expect(first[0]).toMatchObject({ status: 'finding', created: true });
    expect(again[0]).toMatchObject({ status: 'finding', created: false });
    if (first[0]?.status === 'finding' && again[0]?.status === 'finding') expect(again[0].finding.id).toBe(first[0].finding.id);
  });

  it('firstSeen: honours a per-use-case learning period', async () => {
    const { engine } = await dynamo.freshEngine({ useCases: { 'source.new-pusher': { learningDays: 3 } } });
    const at = (id: string, time: string, user: string) => engine.evaluate(newPusher, toPipelineEvent(envelopeForCloudTrail(push(id, time, user))));
    expect((await at('p1', '2026-10-01T10:00:00Z', 'alice'))[0]?.status).toBe('skipped');
    expect((await at('p2', '2026-10-03T10:00:00Z', 'bob'))[0]?.status).toBe('skipped');
    expect((await at('p3', '2026-10-04T10:00:01Z', 'carol'))[0]).toMatchObject({ status: 'finding', finding: { summary: expect.stringContaining('2 known contributors') } });
  });

  it('drift: a redelivered change reproduces the same finding id', async () => {
    const { engine } = await dynamo.freshEngine({});
    const create = record({
      eventSource: 'codebuild.amazonaws.com',
      eventName: 'CreateProject',
      eventID: 'c1',
      eventTime: '2026-10-01T00:00:00Z',
      requestParameters: { name: 'payments-service-build', serviceRole: 'arn:aws:iam::111122223333:role/build' },
    });
    const update = record({
      eventSource: 'codebuild.amazonaws.com',
      eventName: 'UpdateProject',
      eventID: 'u1',
      eventTime: '2026-10-02T00:00:00Z',
      requestParameters: { name: 'payments-service-build', serviceRole: 'arn:aws:iam::111122223333:role/admin' },
    });
    await engine.evaluate(projectDrift, toPipelineEvent(envelopeForCloudTrail(create)));
    const first = await engine.evaluate(projectDrift, toPipelineEvent(envelopeForCloudTrail(update)));
    const again = await engine.evaluate(projectDrift, toPipelineEvent(envelopeForCloudTrail(update)));
    expect(first[0]).toMatchObject({ status: 'finding', created: true, finding: { severity: 'critical' } });
    expect(again[0]).toMatchObject({ status: 'finding', created: false });
  });
});

describe('Engine incidents', () => {
  it('makes one finding per incident key, whichever event brings the evidence first', async () => {
    const incident = defineUseCase({
      metadata: { ...probe.metadata, id: 'source.incident-probe' },
      pattern: { source: ['aws.codecommit'] },
      logic: { kind: 'match', evaluate: () => ({ summary: 'same incident', incidentKey: 'payments-service|commit-abc' }) },
    });
    const { engine } = await dynamo.freshEngine({});
    const first = await engine.evaluate(incident, toPipelineEvent(envelopeForCloudTrail(record({ eventID: 'e-1' }))));
    const second = await engine.evaluate(incident, toPipelineEvent(envelopeForCloudTrail(record({ eventID: 'e-2' }))));
    expect(first[0]).toMatchObject({ status: 'finding', created: true });
    expect(second[0]).toMatchObject({ status: 'finding', created: false });
  });
});
