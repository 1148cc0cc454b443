/**
 * The handlers' CloudWatch metrics as embedded metric format lines on stdout (what Lambda ships to
 * CloudWatch Logs, where they become metrics without an API call).
 */
import { BatchImportFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handleBatch } from '../../lambdas/handlers/detect.js';
import { METRICS_NAMESPACE, countingLookups, recordHealth, skipReasonClass } from '../../lambdas/handlers/metrics.js';
import { noLookups } from '../../lambdas/lookups/lookups.js';
import { handleStream } from '../../lambdas/handlers/notify.js';
import { SecurityHubNotifier } from '../../lambdas/notify/security-hub-notifier.js';
import { SnsNotifier } from '../../lambdas/notify/sns-notifier.js';
import { finding } from '../notify/fixtures.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { sqsRecord, stopLogging as stopLoggingEvent } from '../support/detect-fixtures.js';

const dynamo = useLocalDynamo();
const sqs = mockClient(SQSClient);
const sns = mockClient(SNSClient);
const hub = mockClient(SecurityHubClient);

interface Emf {
  _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
}

let lines: string[] = [];
beforeEach(() => {
  // The suite disables metrics (vitest.config.ts); here they are the subject.
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  lines = [];
  const write = process.stdout.write.bind(process.stdout);
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    if (text.includes('"_aws"')) {
      lines.push(...text.split('\n').filter(Boolean));
      return true;
    }
    return write(chunk, ...(rest as []));
  });
  for (const mock of [sqs, sns, hub]) mock.reset();
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** Each EMF line as metric name → value and its dimensions. */
function emitted(): Array<{ name: string; value: unknown; dimensions: Record<string, unknown> }> {
  return lines.map((line) => JSON.parse(line) as Emf).flatMap((emf) => {
    const directive = emf._aws.CloudWatchMetrics[0]!;
    expect(directive.Namespace).toBe(METRICS_NAMESPACE);
    const dimensions = Object.fromEntries((directive.Dimensions[0] ?? []).map((d) => [d, emf[d]]));
    return directive.Metrics.map((m) => ({ name: m.Name, value: emf[m.Name], dimensions }));
  });
}

const stopLogging = stopLoggingEvent('7f1e2d3c-4b5a-4968-8776-655443322110', { eventID: 'c1000000-0000-4000-8000-000000000099' });

describe('detect metrics', () => {
  it('counts events evaluated per use case, findings per severity and mode, and dead letters', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
    const { engine } = await dynamo.freshEngine({});
    const deps = { engine, sqs: new SQSClient({ region: 'eu-west-1' }), deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/buildwatch-dlq' };
    await handleBatch({ Records: [sqsRecord('m1', JSON.stringify({ useCase: 'monitor.cloudtrail-tamper', event: stopLogging })), sqsRecord('m2', '{not json')] }, undefined, deps);
    const metrics = emitted();
    expect(metrics).toContainEqual(expect.objectContaining({ name: 'EventsEvaluated', value: 1, dimensions: expect.objectContaining({ useCase: 'monitor.cloudtrail-tamper' }) }));
    expect(metrics).toContainEqual(expect.objectContaining({ name: 'Findings', value: 1, dimensions: expect.objectContaining({ mode: 'alert', severity: expect.stringMatching(/^(high|critical)$/) }) }));
    expect(metrics).toContainEqual(expect.objectContaining({ name: 'DeadLettered', value: 1, dimensions: expect.objectContaining({ failure: 'poison' }) }));
    expect(metrics).toContainEqual(expect.objectContaining({ name: 'StageEvents', value: 1, dimensions: expect.objectContaining({ stage: 'monitor' }) }));
    expect(metrics).toContainEqual(expect.objectContaining({ name: 'StageFindings', value: 1, dimensions: expect.objectContaining({ stage: 'monitor', mode: 'alert' }) }));
  });

  it('measures each evaluation: latency and DynamoDB calls per use case', async () => {
    const { engine, state, findings } = await dynamo.freshEngine({});
    const deps = { engine, sqs: new SQSClient({ region: 'eu-west-1' }), deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/buildwatch-dlq', dynamoCalls: () => state.calls + findings.calls };
    await handleBatch({ Records: [sqsRecord('m1', JSON.stringify({ useCase: 'monitor.cloudtrail-tamper', event: stopLogging }))] }, undefined, deps);
    const byName = new Map(emitted().map((m) => [m.name, m]));
    expect(byName.get('EvaluationLatency')).toMatchObject({ dimensions: { useCase: 'monitor.cloudtrail-tamper' } });
    expect(byName.get('EvaluationLatency')!.value).toBeGreaterThan(0);
    // The finding's conditional put at least; the same count the stores kept.
    expect(byName.get('DynamoDBCalls')).toMatchObject({ dimensions: { useCase: 'monitor.cloudtrail-tamper' }, value: state.calls + findings.calls });
    expect(state.calls + findings.calls).toBeGreaterThan(0);
  });

  it('counts look-ups that could not be answered, per look-up, and nothing for answers', async () => {
    const lookups = countingLookups({ ...noLookups, codeBuildProject: async () => ({ status: 'missing' as const }) });
    await lookups.s3Object('b', 'k');
    await lookups.s3Object('b', 'k2');
    await lookups.codeBuildProject('p');
    expect(emitted().map((m) => [m.name, m.dimensions['lookup'], m.value])).toEqual([
      ['LookupFailures', 's3Object', 1],
      ['LookupFailures', 's3Object', 1],
    ]);
  });

  it('counts the failures of look-ups made in member accounts too (a role that cannot be assumed)', async () => {
    const denied = { ...noLookups, codeBuildProject: async () => ({ status: 'unavailable' as const, reason: 'AccessDenied: assuming arn:aws:iam::111122223333:role/buildwatch-member-lookup' }) };
    const lookups = countingLookups({ ...noLookups, inAccount: () => denied });
    expect(await lookups.inAccount?.('111122223333', 'eu-west-1').codeBuildProject('p')).toMatchObject({ status: 'unavailable' });
    expect(emitted().map((m) => [m.name, m.dimensions['lookup'], m.value])).toEqual([['LookupFailures', 'codeBuildProject', 1]]);
  });

  it('the heartbeat reports minutes since the last CloudTrail event and canary, and its problems by check', () => {
    recordHealth(new Date('2026-10-26T12:00:00Z'), { cloudTrailAt: '2026-10-26T11:30:00Z', canaryAt: '2026-10-26T10:00:00Z' }, ['dead-letter']);
    expect(emitted().map((m) => [m.name, m.value, m.dimensions['check']])).toEqual([
      ['MinutesSinceCloudTrailEvent', 30, undefined],
      ['MinutesSinceCanary', 120, undefined],
      ['HealthProblems', 1, 'dead-letter'],
    ]);
  });

  it('classes skip reasons without event text in the dimension', () => {
    expect(skipReasonClass('suppressed until 2026-12-31: change freeze by alice')).toBe('suppressed');
    expect(skipReasonClass('AWS service principal (codebuild.amazonaws.com)')).toBe('aws-service');
    expect(skipReasonClass('failed call (AccessDenied)')).toBe('failed-call');
    expect(skipReasonClass('something new')).toBe('other');
  });
});

describe('notify metrics', () => {
  it('counts deliveries and failures per channel', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    hub.on(BatchImportFindingsCommand).resolves({ SuccessCount: 1, FailedCount: 1, FailedFindings: [{ Id: 'buildwatch/b', ErrorCode: 'InvalidInput', ErrorMessage: 'bad' }] });
    const record = (id: string, sequence: string): DynamoDBRecord => ({
      eventName: 'INSERT',
      dynamodb: { SequenceNumber: sequence, NewImage: marshall(finding({ id, resource: `repo-${id}` }), { removeUndefinedValues: true }) as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'] },
    });
    await handleStream(
      { Records: [record('a', '1'), record('b', '2')] },
      {
        notifier: new SnsNotifier(new SNSClient({}), 'arn:aws:sns:eu-west-1:111122223333:buildwatch-alerts'),
        securityHub: new SecurityHubNotifier(new SecurityHubClient({}), 'arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default', { attempts: 1 }),
      },
    );
    const metrics = emitted().map((m) => [m.name, m.dimensions['channel'], m.value]);
    expect(metrics).toEqual([
      ['Deliveries', 'sns', 1],
      ['Deliveries', 'sns', 1],
      ['Deliveries', 'securityhub', 1],
      ['DeliveryFailures', 'securityhub', 1],
    ]);
  });
});
