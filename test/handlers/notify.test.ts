import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../lambdas/engine/model.js';
import { parseConfig } from '../../lambdas/config/config.js';
import { createNotifier, handleStream } from '../../lambdas/handlers/notify.js';
import { ENV } from '../../lambdas/store/schema.js';
import { SnsNotifier } from '../../lambdas/notify/sns-notifier.js';

const snsMock = mockClient(SNSClient);
const topic = 'arn:aws:sns:eu-west-1:111122223333:buildwatch-alerts';

const finding = (id: string, mode: 'alert' | 'attest'): Finding => ({
  id,
  useCase: 'source.new-pusher',
  answers: 'source.new-contributor',
  stage: 'source',
  severity: 'high',
  mode,
  title: 'New principal pushed to a repository',
  summary: 'svc-legacy-deploy pushed to payments-service for the first time',
  eventId: `evt-${id}`,
  eventTime: '2026-10-25T02:13:00Z',
  day: '2026-10-25',
  principal: 'arn:aws:iam::111122223333:user/svc-legacy-deploy',
  resource: 'payments-service',
  dedupKey: 'payments-service|x',
  evidence: {},
  runbook: 'ask the owners',
  team: 'payments',
  recordedAt: '2026-10-25T02:14:00Z',
  contentHash: '0'.repeat(64),
});

function streamRecord(f: Finding, sequence: string, eventName: 'INSERT' | 'MODIFY' = 'INSERT'): DynamoDBRecord {
  return { eventName, dynamodb: { SequenceNumber: sequence, NewImage: marshall(f) as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'] } };
}

describe('notify handler', () => {
  beforeEach(() => snsMock.reset());

  it('publishes inserted alert findings with routing attributes, and nothing for attestations or updates', async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
    const event: DynamoDBStreamEvent = {
      Records: [streamRecord(finding('a', 'alert'), '1'), streamRecord(finding('b', 'attest'), '2'), streamRecord(finding('c', 'alert'), '3', 'MODIFY')],
    };
    const result = await handleStream(event, { notifier: new SnsNotifier(new SNSClient({ region: 'eu-west-1' }), topic) });
    expect(result).toEqual({ batchItemFailures: [] });
    const calls = snsMock.commandCalls(PublishCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.TopicArn).toBe(topic);
    expect(input?.MessageAttributes?.['severity']?.StringValue).toBe('high');
    expect(input?.MessageAttributes?.['team']?.StringValue).toBe('payments');
  });

  it('reports the first failed record so the stream retries from there, not before', async () => {
    snsMock.on(PublishCommand).resolvesOnce({ MessageId: 'm' }).rejects(new Error('Throttling'));
    const event: DynamoDBStreamEvent = { Records: [streamRecord(finding('a', 'alert'), '10'), streamRecord(finding('b', 'alert'), '11'), streamRecord(finding('c', 'alert'), '12')] };
    const result = await handleStream(event, { notifier: new SnsNotifier(new SNSClient({ region: 'eu-west-1' }), topic) });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: '11' }] });
  });

  it('folds alerts of one question, resource and event into one alert carrying every aspect', async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
    const sbom = (id: string, useCase: string, severity: Finding['severity'], title: string, summary: string, eventId = 'build-204'): Finding => ({
      ...finding(id, 'alert'),
      useCase,
      answers: 'dependencies.library-change',
      stage: 'dependencies',
      severity,
      title,
      summary,
      eventId,
      resource: 'payments-service-build',
    });
    const event: DynamoDBStreamEvent = {
      Records: [
        streamRecord(sbom('lc', 'dependencies.library-change', 'high', 'Significant change in open-source libraries', 'component count 14 → 40'), '20'),
        streamRecord(sbom('cp', 'dependencies.compromised-package', 'critical', 'Build ships a known-compromised package version', 'ships event-stream@3.3.6'), '21'),
        streamRecord(sbom('other', 'dependencies.library-change', 'high', 'Significant change in open-source libraries', 'component count 40 → 80', 'build-205'), '22'),
      ],
    };
    const result = await handleStream(event, { notifier: new SnsNotifier(new SNSClient({ region: 'eu-west-1' }), topic) });
    expect(result).toEqual({ batchItemFailures: [] });
    const calls = snsMock.commandCalls(PublishCommand);
    // build-204: one alert for two findings, led by the most severe; build-205: its own alert.
    expect(calls).toHaveLength(2);
    const folded = calls[0]?.args[0].input;
    expect(folded?.MessageAttributes?.['severity']?.StringValue).toBe('critical');
    expect(folded?.Subject).toContain('known-compromised');
    expect(folded?.Message).toContain('ships event-stream@3.3.6');
    expect(folded?.Message).toContain('component count 14 → 40');
    expect(calls[1]?.args[0].input.Message).toContain('component count 40 → 80');
  });

  it('also publishes a chat card to the chat topics of the routes that want it, with the use case\'s description', async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
    const config = parseConfig({
      routing: {
        security: { slack: { workspaceId: 'T07EA123LEP', channelId: 'C07SECOPS1' } },
        teams: { payments: { repositories: ['payments-service'], slack: { workspaceId: 'T07EA123LEP', channelId: 'C07PAYDEV1' } }, web: { repositories: ['web-frontend'] } },
      },
    });
    const chat = { security: ['arn:aws:sns:eu-west-1:111122223333:buildwatch-chat-security'], 'team-payments': ['arn:aws:sns:eu-west-1:111122223333:buildwatch-chat-team-payments'] };
    const notifier = createNotifier(
      new SNSClient({ region: 'eu-west-1' }),
      { [ENV.alertsTopicArn]: topic, [ENV.chatTopicArns]: JSON.stringify(chat) },
      { 'source.new-pusher': { description: 'New access is where SUNSPOT-style attacks start.' } },
      config,
    );
    const event: DynamoDBStreamEvent = { Records: [streamRecord(finding('a', 'alert'), '1'), streamRecord({ ...finding('b', 'alert'), severity: 'medium' }, '2')] };
    expect(await handleStream(event, { notifier })).toEqual({ batchItemFailures: [] });
    const byTopic = snsMock.commandCalls(PublishCommand).map((call) => call.args[0].input);
    // a (high, payments): alerts topic, security chat, payments chat; b (medium): alerts topic, payments chat.
    expect(byTopic.map((input) => input.TopicArn?.split(':').pop())).toEqual(['buildwatch-alerts', 'buildwatch-chat-security', 'buildwatch-chat-team-payments', 'buildwatch-alerts', 'buildwatch-chat-team-payments']);
    expect(byTopic[0]?.Message).toContain('Why it matters: New access is where SUNSPOT-style attacks start.');
    const card = JSON.parse(byTopic[1]!.Message!) as { content: { description: string } };
    expect(card.content.description).toContain('*Why it matters:* New access is where SUNSPOT-style attacks start.');
  });

  it('takes a failing chat topic as best effort: every alert reaches the alerts topic once, none is held back or retried', async () => {
    const chatTopic = 'arn:aws:sns:eu-west-1:111122223333:buildwatch-chat-team-payments';
    snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
    snsMock.on(PublishCommand, { TopicArn: chatTopic }).rejects(Object.assign(new Error('Topic does not exist'), { name: 'NotFoundException' }));
    const config = parseConfig({ routing: { teams: { payments: { repositories: ['payments-service'], slack: { workspaceId: 'T07EA123LEP', channelId: 'C07PAYDEV1' } } } } });
    const notifier = createNotifier(new SNSClient({ region: 'eu-west-1' }), { [ENV.alertsTopicArn]: topic, [ENV.chatTopicArns]: JSON.stringify({ 'team-payments': [chatTopic] }) }, {}, config);
    const event: DynamoDBStreamEvent = { Records: [streamRecord(finding('a', 'alert'), '1'), streamRecord({ ...finding('b', 'alert'), resource: 'arn:aws:codecommit:eu-west-1:111122223333:other' }, '2')] };
    expect(await handleStream(event, { notifier })).toEqual({ batchItemFailures: [] });
    const alerts = snsMock.commandCalls(PublishCommand).filter((call) => call.args[0].input.TopicArn === topic);
    expect(alerts).toHaveLength(2);
  });
});
