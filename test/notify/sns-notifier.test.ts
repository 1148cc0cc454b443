import 'aws-sdk-client-mock-vitest/extend';
import { PublishCommand, SNSClient, type PublishCommandInput } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SNS_MAX_BYTES, SnsNotifier } from '../../lambdas/notify/sns-notifier.js';
import { NPM_TOKEN, codeBuildEvidence, finding } from './fixtures.js';

const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:buildwatch-alerts';
const sns = mockClient(SNSClient);

function published(): PublishCommandInput {
  const calls = sns.commandCalls(PublishCommand);
  expect(calls).toHaveLength(1);
  const input = calls[0]?.args[0].input;
  if (!input) throw new Error('no Publish call');
  return input;
}

/** What SNS counts against its limit: message plus each attribute's name, type and value. */
function size(input: PublishCommandInput): number {
  let bytes = Buffer.byteLength(input.Message ?? '');
  for (const [name, attribute] of Object.entries(input.MessageAttributes ?? {})) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(attribute.DataType ?? '') + Buffer.byteLength(attribute.StringValue ?? '');
  }
  return bytes;
}

describe('SnsNotifier', () => {
  beforeEach(() => {
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  });

  it('publishes subject, message and String message attributes to the topic', async () => {
    await new SnsNotifier(new SNSClient({ region: 'eu-west-1' }), TOPIC).notify(finding());
    expect(sns).toHaveReceivedCommandExactlyOnceWith(PublishCommand, {
      TopicArn: TOPIC,
      Subject: '[HIGH] source.new-pusher: New principal pushed to payments-service',
      Message: expect.stringContaining('Who:      arn:aws:iam::111122223333:user/alice'),
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'high' },
        stage: { DataType: 'String', StringValue: 'source' },
        useCase: { DataType: 'String', StringValue: 'source.new-pusher' },
        answers: { DataType: 'String', StringValue: 'source.new-contributor' },
        mode: { DataType: 'String', StringValue: 'alert' },
        team: { DataType: 'String', StringValue: 'payments' },
        resource: { DataType: 'String', StringValue: 'payments-service' },
      },
    });
    expect(published().Message).not.toContain('Full finding:');
  });

  it('never sends a CodeBuild PLAINTEXT variable', async () => {
    await new SnsNotifier(new SNSClient({}), TOPIC).notify(finding({ evidence: codeBuildEvidence() }));
    expect(JSON.stringify(published())).not.toContain(NPM_TOKEN);
  });

  it('keeps a subject SNS accepts for a hostile title', async () => {
    await new SnsNotifier(new SNSClient({}), TOPIC).notify(finding({ title: `\u0007<!channel>\n${'é'.repeat(500)}` }));
    const subject = published().Subject ?? '';
    expect(subject.length).toBeLessThan(100);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
  });

  it.each([
    ['ASCII', 'a'],
    ['three-byte characters', '€'],
    ['characters the text escapes', '<'],
    ['astral characters', '😀'],
  ])('cuts 1 MB of %s evidence to fit 256 KiB and points to the ledger', async (_name, unit) => {
    const big = finding({ evidence: { blob: unit.repeat(1_000_000 / unit.length) } });
    await new SnsNotifier(new SNSClient({}), TOPIC).notify(big);
    const input = published();
    expect(size(input)).toBeLessThanOrEqual(SNS_MAX_BYTES);
    // Not cut to nothing: most of the budget goes to evidence.
    expect(size(input)).toBeGreaterThan(SNS_MAX_BYTES / 2);
    expect(input.Message).toMatch(/Evidence \(compact JSON, truncated from \d+ characters\):/);
    expect(input.Message?.endsWith(`\nFull finding: findings table id ${big.id}`)).toBe(true);
    expect(input.Message).toContain('Who:      arn:aws:iam::111122223333:user/alice');
  });

  it('sends evidence just under the limit untouched', async () => {
    await new SnsNotifier(new SNSClient({}), TOPIC).notify(finding({ evidence: { blob: 'a'.repeat(150_000) } }));
    expect(published().Message).not.toContain('Full finding:');
  });

  it('wraps SNS errors in a NotifyError with the cause, so the caller retries', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException' });
    sns.on(PublishCommand).rejects(throttled);
    const error = await new SnsNotifier(new SNSClient({}), TOPIC).notify(finding()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('NotifyError');
    expect((error as Error).cause).toBe(throttled);
    expect((error as Error).message).toContain('5f0c3a9e2b7d4c1e8a6f0b3d9c2e7a41');
    expect((error as Error).message).toContain('ThrottledException: Rate exceeded');
  });
});
