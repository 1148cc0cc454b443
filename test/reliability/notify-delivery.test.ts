/**
 * Reliability of alerting: the findings of the sample history (produced by the detect handler, as in
 * detect-delivery.test.ts) as the findings table's stream delivers them to the notify handler
 * (INSERTs and MODIFYs, batches of 10, a failed record retried from its checkpoint up to 5 times,
 * then the batch's rest goes to the on-failure destination), with SNS failing. Compared with a clean
 * run: every alert is published, nothing else is, and a repeat is only the same alert again after a
 * publish whose answer was lost (SNS cannot know; subscribers see the same finding id).
 */
import { PublishCommand, SNSClient, type PublishCommandInput } from '@aws-sdk/client-sns';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../lambdas/engine/model.js';
import { createNotifier, handleStream } from '../../lambdas/handlers/notify.js';
import { ENV } from '../../lambdas/store/schema.js';
import { loadConfig } from '../../lambdas/config/config.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { historyMessages, seededRandom } from './history.js';
import { container, runSweep, storedFindings } from './runs.js';
import { deliverThroughQueue } from './sqs-delivery.js';

const dynamo = useLocalDynamo();
const snsMock = mockClient(SNSClient);
const sqsMock = mockClient(SQSClient);
const ALERTS_TOPIC = 'arn:aws:sns:eu-west-1:111122223333:buildwatch-alerts';
/** The notifier's event source mapping (lib/constructs/notifier.ts). */
const STREAM = { batchSize: 10, retryAttempts: 5 };

let findings: Finding[];

beforeAll(async () => {
  sqsMock.on(SendMessageCommand).resolves({ MessageId: 'dlq' });
  const stores = await dynamo.freshStores();
  const lambda = container(stores.doc, stores);
  await deliverThroughQueue(await historyMessages(), (event) => lambda.handle(event));
  await runSweep(lambda.engine);
  findings = await storedFindings(stores);
  expect(findings.filter((f) => f.mode === 'alert').length).toBeGreaterThan(10);
  expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
}, 120_000);

/** The table's stream: each finding's INSERT, and a MODIFY for each counted into by a dedup window. */
function streamRecords(): DynamoDBRecord[] {
  const records: DynamoDBRecord[] = [];
  const image = (f: Finding) => marshall(f, { removeUndefinedValues: true }) as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'];
  for (const finding of findings) {
    records.push({ eventName: 'INSERT', dynamodb: { SequenceNumber: String(records.length).padStart(8, '0'), NewImage: image(finding) } });
    if (finding.occurrences) records.push({ eventName: 'MODIFY', dynamodb: { SequenceNumber: String(records.length).padStart(8, '0'), NewImage: image(finding) } });
  }
  return records;
}

interface StreamRun {
  /** Finding id → how many times the alerts topic accepted it. */
  readonly published: Map<string, PublishCommandInput[]>;
  /** Sequence numbers handed to the on-failure destination after the retries ran out. */
  readonly failedOver: string[];
  readonly failedAfterPublish: number;
}

/** Shares of publishes that fail before SNS accepted them, and after (the answer was lost). */
interface SnsFaults {
  readonly before: number;
  readonly after: number;
}

/** Lambda's stream poller in miniature, with SNS failing as told. */
async function runStream(faults: SnsFaults, random: () => number): Promise<StreamRun> {
  const published = new Map<string, PublishCommandInput[]>();
  let failedAfterPublish = 0;
  snsMock.reset();
  snsMock.on(PublishCommand).callsFake((input: PublishCommandInput) => {
    const roll = random();
    if (roll < faults.before) throw Object.assign(new Error('injected: Rate exceeded'), { name: 'ThrottledException', $fault: 'client' });
    const id = /Finding id: (\S+)/.exec(input.Message ?? '')?.[1] ?? '(no finding id in the message)';
    published.set(id, [...(published.get(id) ?? []), input]);
    if (roll < faults.before + faults.after) {
      failedAfterPublish += 1;
      throw Object.assign(new Error('injected: socket timed out after the request was sent'), { name: 'TimeoutError' });
    }
    return { MessageId: `sns-${id}` };
  });
  const notifier = createNotifier(new SNSClient({ region: 'eu-west-1' }), { [ENV.alertsTopicArn]: ALERTS_TOPIC }, {}, loadConfig());
  const records = streamRecords();
  const failedOver: string[] = [];
  let position = 0;
  while (position < records.length) {
    let batch = records.slice(position, position + STREAM.batchSize);
    let retries = 0;
    for (;;) {
      const { batchItemFailures } = await handleStream({ Records: batch }, { notifier });
      const failed = batchItemFailures[0]?.itemIdentifier;
      if (failed === undefined) break;
      // Checkpointing: the poller resumes at the failed record, never before it.
      const from = batch.findIndex((record) => record.dynamodb?.SequenceNumber === failed);
      expect(from, `the handler reported an unknown sequence number ${failed}`).toBeGreaterThanOrEqual(0);
      batch = batch.slice(from);
      retries += 1;
      if (retries > STREAM.retryAttempts) {
        failedOver.push(...batch.map((record) => record.dynamodb?.SequenceNumber ?? ''));
        break;
      }
    }
    position += STREAM.batchSize;
  }
  return { published, failedOver, failedAfterPublish };
}

function alertIds(): string[] {
  return findings.filter((f) => f.mode === 'alert').map((f) => f.id).sort();
}

function sequenceOf(findingId: string): string {
  const index = streamRecords().findIndex((record) => record.eventName === 'INSERT' && record.dynamodb?.NewImage?.['id']?.S === findingId);
  return String(index).padStart(8, '0');
}

describe('the sample history through the notify handler, compared with a clean run', () => {
  it('clean: every alert published once, attestations and dedup updates never', async () => {
    const run = await runStream({ before: 0, after: 0 }, seededRandom(1));
    expect(run.failedOver).toEqual([]);
    expect([...run.published.keys()].sort()).toEqual(alertIds());
    const repeated = [...run.published].filter(([, inputs]) => inputs.length !== 1).map(([id, inputs]) => `${id}: published ${inputs.length} times`);
    expect(repeated).toEqual([]);
  }, 60_000);

  it('with 30% of publishes failing (half after SNS accepted them): every alert out or handed to the on-failure destination; repeats only after a lost answer, identical', async () => {
    const run = await runStream({ before: 0.15, after: 0.15 }, seededRandom(11));
    expect(run.failedAfterPublish).toBeGreaterThan(0);
    const expected = alertIds();
    const unexpected = [...run.published.keys()].filter((id) => !expected.includes(id)).map((id) => `published but not an alert of the clean run: ${id}`);
    expect(unexpected).toEqual([]);
    const failedOver = new Set(run.failedOver);
    const missing = expected.filter((id) => !run.published.has(id) && !failedOver.has(sequenceOf(id))).map((id) => `never published and not in the on-failure destination: ${id}`);
    expect(missing).toEqual([]);
    // A repeat is the same alert again (subscribers dedup on the finding id), and needs a lost answer.
    const repeats = [...run.published].filter(([, inputs]) => inputs.length > 1);
    const differing = repeats.filter(([, inputs]) => inputs.some((input) => input.Message !== inputs[0]?.Message || input.Subject !== inputs[0]?.Subject)).map(([id]) => `repeat of ${id} differs from its first publish`);
    expect(differing).toEqual([]);
    const extraPublishes = repeats.reduce((sum, [, inputs]) => sum + inputs.length - 1, 0);
    expect(extraPublishes).toBeLessThanOrEqual(run.failedAfterPublish);
  }, 60_000);

  it('with 30% of publishes failing before SNS accepted them: every alert published exactly once or handed to the on-failure destination', async () => {
    const run = await runStream({ before: 0.3, after: 0 }, seededRandom(5));
    expect(run.failedAfterPublish).toBe(0);
    const failedOver = new Set(run.failedOver);
    const problems = alertIds().flatMap((id) => {
      const count = run.published.get(id)?.length ?? 0;
      if (count === 1) return [];
      if (count === 0 && failedOver.has(sequenceOf(id))) return [];
      return [`${id}: published ${count} times`];
    });
    expect(problems).toEqual([]);
  }, 60_000);
});
