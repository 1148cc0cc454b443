import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handleBatch, MAX_ATTEMPTS, type DetectDeps } from '../../lambdas/handlers/detect.js';
import { Engine } from '../../lambdas/engine/engine.js';
import { useLocalDynamo } from '../support/local-dynamo.js';

const dynamo = useLocalDynamo();
const sqsMock = mockClient(SQSClient);

const stopLogging = {
  version: '0',
  id: '7f1e2d3c-4b5a-4968-8776-655443322110',
  'detail-type': 'AWS API Call via CloudTrail',
  source: 'aws.cloudtrail',
  account: '111122223333',
  time: '2026-10-26T03:10:00Z',
  region: 'eu-west-1',
  resources: [],
  detail: {
    eventVersion: '1.09',
    eventTime: '2026-10-26T03:10:00Z',
    eventSource: 'cloudtrail.amazonaws.com',
    eventName: 'StopLogging',
    awsRegion: 'eu-west-1',
    eventID: 'c1000000-0000-4000-8000-000000000099',
    eventType: 'AwsApiCall',
    userIdentity: { type: 'AssumedRole', arn: 'arn:aws:sts::111122223333:assumed-role/Admin/maint', accountId: '111122223333' },
    requestParameters: { name: 'org-trail' },
    readOnly: false,
  },
};

function sqsRecord(messageId: string, body: string, receiveCount = 1): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: '0',
      SenderId: 'events',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:111122223333:buildwatch-detect',
    awsRegion: 'eu-west-1',
  };
}

async function deps(overrides: Partial<DetectDeps> = {}): Promise<DetectDeps & { findings: import('../../lambdas/store/findings-store.js').FindingsStore }> {
  const { engine, findings } = await dynamo.freshEngine({});
  return { engine, sqs: new SQSClient({ region: 'eu-west-1' }), deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/buildwatch-dlq', findings, ...overrides };
}

describe('detect handler', () => {
  beforeEach(() => {
    sqsMock.reset();
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
  });

  it('evaluates the named use case and stores the finding', async () => {
    const d = await deps();
    const event: SQSEvent = { Records: [sqsRecord('m1', JSON.stringify({ useCase: 'monitor.cloudtrail-tamper', event: stopLogging }))] };
    expect(await handleBatch(event, undefined, d)).toEqual({ batchItemFailures: [] });
    const stored = [];
    for await (const f of d.findings.byDay('2026-10-26')) stored.push(f);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ useCase: 'monitor.cloudtrail-tamper', severity: 'critical', eventId: stopLogging.id });
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('sends poison messages to the dead-letter queue with the reason, and does not retry them', async () => {
    const d = await deps();
    const event: SQSEvent = {
      Records: [
        sqsRecord('bad-json', '{not json'),
        sqsRecord('bad-shape', JSON.stringify({ useCase: 'monitor.cloudtrail-tamper', event: { id: 'x' } })),
        sqsRecord('unknown-use-case', JSON.stringify({ useCase: 'source.nope', event: stopLogging })),
      ],
    };
    expect(await handleBatch(event, undefined, d)).toEqual({ batchItemFailures: [] });
    const calls = sqsMock.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
    expect(calls).toHaveLength(3);
    const reasons = calls.map((input) => input.MessageAttributes?.['reason']?.StringValue ?? '');
    expect(reasons[0]).toMatch(/not JSON/);
    expect(reasons[1]).toMatch(/event\.detail-type/);
    expect(reasons[2]).toBe('unknown use case source.nope');
    expect(calls[0]?.MessageBody).toBe('{not json');
  });

  it('reports a transient failure for retry, then dead-letters it with the reason on the last attempt', async () => {
    const failing = await deps();
    const broken = { evaluate: async () => { throw new Error('ProvisionedThroughputExceededException: slow down'); } } as unknown as Engine;
    const body = JSON.stringify({ useCase: 'monitor.cloudtrail-tamper', event: stopLogging });
    const retry = await handleBatch({ Records: [sqsRecord('m2', body, 1)] }, undefined, { ...failing, engine: broken });
    expect(retry).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);

    const last = await handleBatch({ Records: [sqsRecord('m2', body, MAX_ATTEMPTS)] }, undefined, { ...failing, engine: broken });
    expect(last).toEqual({ batchItemFailures: [] });
    const reason = sqsMock.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageAttributes?.['reason']?.StringValue;
    expect(reason).toContain('slow down');
    expect(reason).toContain(`after ${MAX_ATTEMPTS} attempts`);
  });

  it('fails only the failing records of a batch', async () => {
    const d = await deps();
    const good = JSON.stringify({ useCase: 'monitor.cloudtrail-tamper', event: stopLogging });
    sqsMock.on(SendMessageCommand).rejects(new Error('dlq unavailable'));
    const result = await handleBatch({ Records: [sqsRecord('ok', good), sqsRecord('poison', 'nope')] }, undefined, d);
    // The poison message could not be parked, so SQS must keep it.
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'poison' }] });
  });
});
