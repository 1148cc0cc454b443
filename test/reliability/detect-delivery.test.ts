/**
 * Reliability of detection under real delivery: the whole sample history through the detect
 * handler's handleBatch (every event to each use case whose rule matches it, batches of 10), then the
 * correlation sweep, compared with a clean run. EventBridge and SQS deliver at least once and not in
 * order; DynamoDB calls fail, some after the write landed. Whatever happens: no extra finding, no
 * changed severity or mode, and nothing missing unless its event is in the dead-letter queue with
 * its reason.
 */
import { SendMessageCommand, SQSClient, type SendMessageCommandInput } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Finding } from '../../lambdas/engine/model.js';
import { DEAD_LETTER_LOG } from '../../lambdas/handlers/detect.js';
import { logger } from '../../lambdas/handlers/runtime.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { faultyDocumentClient } from './faults.js';
import { historyMessages, seededRandom, shuffleWithinWindows, type QueueMessage } from './history.js';
import { container, differences, runSweep, storedFindings } from './runs.js';
import { deliverThroughQueue } from './sqs-delivery.js';

const dynamo = useLocalDynamo();
const sqsMock = mockClient(SQSClient);
// Whole-history runs: far longer than a unit test, still about a minute for the file.
const RUN_TIMEOUT = 240_000;

interface DeadLetter {
  readonly messageId: string;
  /** `${eventId}#${useCase}` */
  readonly key: string;
  readonly reason: string;
}

/** What the dead-letter queue accepted (a send that failed parked nothing). */
let parked: SendMessageCommandInput[] = [];

/** The dead-letter queue, failing a share of sends when given a random source. */
function deadLetterQueue(failRate = 0, random: () => number = Math.random): void {
  parked = [];
  sqsMock.reset();
  sqsMock.on(SendMessageCommand).callsFake((input: SendMessageCommandInput) => {
    if (failRate > 0 && random() < failRate) throw Object.assign(new Error('injected: SQS unavailable'), { name: 'InternalError', $fault: 'server' });
    parked.push(input);
    return { MessageId: `dlq-${parked.length}` };
  });
}

function deadLetters(): DeadLetter[] {
  return parked.map((input) => {
    const body = JSON.parse(input.MessageBody ?? '{}') as { useCase?: string; event?: { id?: string } };
    return {
      messageId: input.MessageAttributes?.['sourceMessageId']?.StringValue ?? '',
      key: `${body.event?.id ?? ''}#${body.useCase ?? ''}`,
      reason: input.MessageAttributes?.['reason']?.StringValue ?? '',
    };
  });
}

let messages: QueueMessage[];
let clean: Finding[];

beforeAll(async () => {
  messages = await historyMessages();
  deadLetterQueue();
  const stores = await dynamo.freshStores();
  const lambda = container(stores.doc, stores);
  const report = await deliverThroughQueue(messages, (event) => lambda.handle(event));
  await runSweep(lambda.engine);
  clean = await storedFindings(stores);
  // The clean run itself must be clean, or every comparison below is meaningless.
  expect(deadLetters(), 'clean run: dead letters').toEqual([]);
  expect(report.redriven).toEqual([]);
  expect(report.receives).toBe(messages.length);
  expect(clean.filter((f) => f.mode === 'alert').length).toBeGreaterThan(10);
}, RUN_TIMEOUT);

beforeEach(() => deadLetterQueue());

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the sample history through the detect handler, compared with a clean run', () => {
  it('(a) delivered twice in a row adds nothing and changes nothing', async () => {
    const stores = await dynamo.freshStores();
    const lambda = container(stores.doc, stores);
    await deliverThroughQueue(messages, (event) => lambda.handle(event), { idSuffix: '#1' });
    await deliverThroughQueue(messages, (event) => lambda.handle(event), { idSuffix: '#2' });
    await runSweep(lambda.engine);
    expect(deadLetters()).toEqual([]);
    expect(differences(clean, await storedFindings(stores), { occurrences: true })).toEqual([]);
  }, RUN_TIMEOUT);

  it('(b) delivered as two concurrent copies (two containers) adds nothing and changes nothing', async () => {
    const stores = await dynamo.freshStores();
    const first = container(stores.doc, stores);
    const second = container(stores.doc, stores);
    await Promise.all([
      deliverThroughQueue(messages, (event) => first.handle(event), { idSuffix: '#1' }),
      deliverThroughQueue(messages, (event) => second.handle(event), { idSuffix: '#2' }),
    ]);
    await runSweep(first.engine);
    expect(deadLetters()).toEqual([]);
    expect(differences(clean, await storedFindings(stores), { occurrences: true })).toEqual([]);
  }, RUN_TIMEOUT);

  it('(c) with a late redelivery of everything (after the sweep, by a fresh container) adds nothing and changes nothing', async () => {
    const stores = await dynamo.freshStores();
    const lambda = container(stores.doc, stores);
    await deliverThroughQueue(messages, (event) => lambda.handle(event), { idSuffix: '#1' });
    await runSweep(lambda.engine);
    const later = container(stores.doc, stores);
    await deliverThroughQueue(messages, (event) => later.handle(event), { idSuffix: '#late' });
    await runSweep(later.engine);
    expect(deadLetters()).toEqual([]);
    expect(differences(clean, await storedFindings(stores), { occurrences: true })).toEqual([]);
  }, RUN_TIMEOUT);

  it('(d) shuffled within 5-minute windows gives the same findings', async () => {
    const stores = await dynamo.freshStores();
    const lambda = container(stores.doc, stores);
    await deliverThroughQueue(shuffleWithinWindows(messages, 5 * 60_000, seededRandom(13)), (event) => lambda.handle(event));
    await runSweep(lambda.engine);
    expect(deadLetters()).toEqual([]);
    expect(differences(clean, await storedFindings(stores), { occurrences: true })).toEqual([]);
  }, RUN_TIMEOUT);

  it('(e) with 30% of DynamoDB calls failing (half after the write landed) and SQS retries: nothing extra or changed; anything missing is in the dead-letter queue with its reason', async () => {
    const random = seededRandom(7);
    // The dead-letter queue itself fails a fifth of the time: a reason must survive that too.
    deadLetterQueue(0.2, random);
    const logged = new Map<string, string>();
    vi.spyOn(logger, 'error').mockImplementation((message: unknown, ...extra: unknown[]) => {
      const fields = extra[0] as { messageId?: string; reason?: string } | undefined;
      if (message === DEAD_LETTER_LOG && fields?.messageId) logged.set(fields.messageId, fields.reason ?? '');
    });
    const stores = await dynamo.freshStores();
    const faulty = faultyDocumentClient(stores.doc, 0.3, random);
    const lambda = container(faulty.doc, stores);
    const report = await deliverThroughQueue(messages, (event) => lambda.handle(event));
    await runSweep(container(stores.doc, stores).engine);

    // The faults did happen, and SQS did redeliver.
    expect(faulty.counts.failedBefore).toBeGreaterThan(0);
    expect(faulty.counts.failedAfter).toBeGreaterThan(0);
    expect(report.receives).toBeGreaterThan(messages.length);
    // SQS's own redrive carries no reason: every message it moved must have one logged under its id.
    expect(report.redriven.filter((id) => !logged.get(id))).toEqual([]);
    const letters = deadLetters();
    expect(letters.filter((letter) => letter.reason === '')).toEqual([]);
    const parked = new Set([...letters.map((letter) => letter.key), ...report.redriven.map((id) => id)]);
    expect(differences(clean, await storedFindings(stores), { deadLettered: parked })).toEqual([]);
  }, RUN_TIMEOUT);
});
