import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEAD_LETTER_LOG, handleBatch, MAX_ATTEMPTS, type DetectDeps } from '../../lambdas/handlers/detect.js';
import { classifyFailure } from '../../lambdas/handlers/failure-class.js';
import { timeKey } from '../../lambdas/store/state-store.js';
import { logger } from '../../lambdas/handlers/runtime.js';
import { DETECT_MAX_RECEIVE_COUNT } from '../../lib/constructs/queues.js';
import { vi } from 'vitest';
import { Engine } from '../../lambdas/engine/engine.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { sqsRecord, stopLogging as stopLoggingEvent } from '../support/detect-fixtures.js';

const dynamo = useLocalDynamo();
const sqsMock = mockClient(SQSClient);

const stopLogging = stopLoggingEvent('7f1e2d3c-4b5a-4968-8776-655443322110', { eventID: 'c1000000-0000-4000-8000-000000000099' });


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

  it('dead-letters permanent failures at once with the reason (ValidationException, TypeError), and retries transient ones', async () => {
    const d = await deps();
    const body = JSON.stringify({ useCase: 'monitor.cloudtrail-tamper', event: stopLogging });
    const validation = Object.assign(new Error('Item size has exceeded the maximum allowed size'), { name: 'ValidationException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    const failingWith = (error: unknown) => ({ evaluate: async () => { throw error; } }) as unknown as Engine;

    expect(await handleBatch({ Records: [sqsRecord('v', body, 1)] }, undefined, { ...d, engine: failingWith(validation) })).toEqual({ batchItemFailures: [] });
    expect(await handleBatch({ Records: [sqsRecord('t', body, 1)] }, undefined, { ...d, engine: failingWith(new TypeError("Cannot read properties of undefined (reading 'x')")) })).toEqual({ batchItemFailures: [] });
    const sent = sqsMock.commandCalls(SendMessageCommand).map((call) => call.args[0].input.MessageAttributes);
    expect(sent).toHaveLength(2);
    expect(sent[0]?.['reason']?.StringValue).toMatch(/ValidationException: Item size has exceeded.*permanent: not retried/);
    expect(sent[0]?.['failure']?.StringValue).toBe('permanent');
    expect(sent[0]?.['attempts']?.StringValue).toBe('1');
    expect(sent[1]?.['reason']?.StringValue).toMatch(/TypeError: Cannot read properties/);

    // Throttling, a timeout after the request went out, a 5xx and a dropped connection: retried.
    const transient = [
      Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException', $fault: 'client', $metadata: { httpStatusCode: 400 } }),
      Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }),
      Object.assign(new Error('internal'), { name: 'InternalServerError', $fault: 'server', $metadata: { httpStatusCode: 500 } }),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    ];
    for (const [index, error] of transient.entries()) {
      const id = `tr-${index}`;
      expect(await handleBatch({ Records: [sqsRecord(id, body, 1)] }, undefined, { ...d, engine: failingWith(error) })).toEqual({ batchItemFailures: [{ itemIdentifier: id }] });
    }
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(2);
  });

  it('classifies failures: permanent for invalid requests and programming errors, transient for throttling, timeouts, 5xx and network', () => {
    expect(classifyFailure(Object.assign(new Error('x'), { name: 'ValidationException', $fault: 'client' }))).toBe('permanent');
    expect(classifyFailure(new TypeError('x'))).toBe('permanent');
    expect(classifyFailure(new RangeError('Invalid time value'))).toBe('permanent');
    expect(classifyFailure(Object.assign(new Error('x'), { name: 'AccessDeniedException', $fault: 'client' }))).toBe('permanent');
    expect(classifyFailure(Object.assign(new Error('x'), { name: 'ThrottlingException', $fault: 'client' }))).toBe('transient');
    expect(classifyFailure(Object.assign(new Error('x'), { name: 'SomethingNew', $fault: 'server' }))).toBe('transient');
    expect(classifyFailure(Object.assign(new Error('x'), { name: 'ConditionalCheckFailedException', $fault: 'client' }))).toBe('transient');
    expect(classifyFailure(Object.assign(new Error('x'), { code: 'ETIMEDOUT' }))).toBe('transient');
    // A time the stores cannot key (before 1970) fails every retry alike: dead-lettered at once.
    const unkeyable = (() => {
      try {
        timeKey('1919-06-27T11:19:42.000Z');
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(unkeyable).toBeInstanceOf(RangeError);
    expect(classifyFailure(unkeyable)).toBe('permanent');
  });

  it('rejects an event whose time is not a date-time as poison, before any evaluation', async () => {
    const d = await deps();
    const evaluated: string[] = [];
    const spy = { evaluate: async () => { evaluated.push('called'); return []; } } as unknown as Engine;
    const badEnvelope = JSON.stringify({ useCase: 'monitor.cloudtrail-tamper', event: { ...stopLogging, time: 'yesterday' } });
    const badRecordTime = JSON.stringify({ useCase: 'monitor.cloudtrail-tamper', event: { ...stopLogging, detail: { ...stopLogging.detail, eventTime: 'NaN' } } });
    const result = await handleBatch({ Records: [sqsRecord('t1', badEnvelope), sqsRecord('t2', badRecordTime)] }, undefined, { ...d, engine: spy });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(evaluated).toEqual([]);
    const reasons = sqsMock.commandCalls(SendMessageCommand).map((call) => call.args[0].input.MessageAttributes?.['reason']?.StringValue);
    expect(reasons).toEqual(['message is not {useCase, event}: event.time: not a date-time', 'message is not {useCase, event}: event.detail.eventTime: not a date-time']);
  });

  it('keeps the reason when the forward fails on the last attempt: retried below the redrive, and logged by message id', async () => {
    expect(DETECT_MAX_RECEIVE_COUNT).toBeGreaterThanOrEqual(MAX_ATTEMPTS + 2);
    const d = await deps();
    const broken = { evaluate: async () => { throw Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }); } } as unknown as Engine;
    const body = JSON.stringify({ useCase: 'monitor.cloudtrail-tamper', event: stopLogging });
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    try {
      sqsMock.on(SendMessageCommand).rejectsOnce(new Error('dlq unavailable')).resolves({ MessageId: 'dlq-2' });
      // The last evaluation attempt: the forward fails, so the message stays in the detect queue...
      expect(await handleBatch({ Records: [sqsRecord('m9', body, MAX_ATTEMPTS)] }, undefined, { ...d, engine: broken })).toEqual({ batchItemFailures: [{ itemIdentifier: 'm9' }] });
      // ...and the reason is already in the logs, keyed by the message id SQS keeps on redrive.
      expect(logged).toHaveBeenCalledWith(DEAD_LETTER_LOG, expect.objectContaining({ messageId: 'm9', failure: 'transient', reason: expect.stringContaining('TimeoutError: socket timed out') }));
      // The next receive is still below the redrive: the forward is retried and carries the reason.
      expect(MAX_ATTEMPTS + 1).toBeLessThan(DETECT_MAX_RECEIVE_COUNT);
      expect(await handleBatch({ Records: [sqsRecord('m9', body, MAX_ATTEMPTS + 1)] }, undefined, { ...d, engine: broken })).toEqual({ batchItemFailures: [] });
      const calls = sqsMock.commandCalls(SendMessageCommand);
      expect(calls).toHaveLength(2);
      expect(calls[1]?.args[0].input.MessageAttributes?.['reason']?.StringValue).toContain(`TimeoutError: socket timed out (after ${MAX_ATTEMPTS + 1} attempts)`);
      expect(calls[1]?.args[0].input.MessageAttributes?.['sourceMessageId']?.StringValue).toBe('m9');
    } finally {
      logged.mockRestore();
    }
  });
});
