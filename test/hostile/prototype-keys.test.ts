/**
 * Defect 2 (issue 13): keys from events (tags, variables, policy statements) that name Object.prototype
 * members must be plain data. A tag `constructor` made the drift diff read a function and the write
 * fail on every attempt, so the CRITICAL alert never went out.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { diffState, mergeState } from '../../lambdas/engine/diff.js';
import type { Finding } from '../../lambdas/engine/model.js';
import type { JsonObject } from '../../lambdas/engine/use-case.js';
import { handleBatch } from '../../lambdas/handlers/detect.js';
import { toPipelineEvent } from '../../lambdas/engine/pipeline-event.js';
import { useCaseById } from '../../lambdas/use-cases/index.js';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { canonicalJson } from '../../lambdas/engine/canonical.js';
import { handleStream } from '../../lambdas/handlers/notify.js';
import { escapeKeys } from '../../lambdas/store/key-escape.js';
import { finding } from '../notify/fixtures.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { loadCase, sqsRecord, type Json } from './support.js';

const dynamo = useLocalDynamo();
const sqsMock = mockClient(SQSClient);
const HOSTILE_KEYS = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '__proto__.polluted', 'constructor.prototype.polluted'];

function withTags(event: Json, tags: Array<{ key: string; value: string }>): Json {
  const copy = structuredClone(event) as { detail: { requestParameters: Json } };
  copy.detail.requestParameters['tags'] = tags;
  return copy;
}

describe('event keys that name Object.prototype members', () => {
  beforeEach(() => {
    sqsMock.reset();
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'dlq' });
  });

  it.each(HOSTILE_KEYS)('an UpdateProject with an inline buildspec, a secret variable and a tag %j still raises the CRITICAL alert', async (key) => {
    const { history, events } = loadCase('build/project-drift/cases/inline-buildspec-and-secret-variable.json');
    const { engine, findings } = await dynamo.freshEngine({});
    const deps = { engine, sqs: new SQSClient({ region: 'eu-west-1' }), deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/dlq' };
    const message = (event: Json): string => JSON.stringify({ useCase: 'build.project-drift', event });
    const records = [
      sqsRecord('h', message(withTags(history[0] as Json, [{ key, value: 'baseline' }]))),
      sqsRecord('u', message(withTags(events[0] as Json, [{ key, value: 'x' }, { key: 'team', value: 'payments' }]))),
    ];
    for (const record of records) expect(await handleBatch({ Records: [record] }, undefined, deps)).toEqual({ batchItemFailures: [] });
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
    const stored: Finding[] = [];
    for await (const f of findings.byDay('2026-10-25')) stored.push(f);
    expect(stored.map((f) => [f.useCase, f.severity, f.mode])).toEqual([['build.project-drift', 'critical', 'alert']]);
    expect(JSON.stringify(stored)).not.toContain('ghp_abcdefghijklmnopqrstuvwxyz0123456789');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('a tag whose key is an object with a `toString` field (found by the fuzzer) still raises the CRITICAL alert', async () => {
    const { history, events } = loadCase('build/project-drift/cases/inline-buildspec-and-secret-variable.json');
    const { engine, findings } = await dynamo.freshEngine({});
    const deps = { engine, sqs: new SQSClient({ region: 'eu-west-1' }), deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/dlq' };
    const update = structuredClone(events[0]) as { detail: { requestParameters: Json } };
    update.detail.requestParameters['tags'] = [{ key: { toString: 1, valueOf: 'x' }, value: { toString: 'y' } }];
    (update.detail.requestParameters['environment'] as { environmentVariables: Json[] }).environmentVariables.push({ name: { toString: 1 }, value: { valueOf: 2 }, type: ['PLAINTEXT'] });
    for (const [id, event] of [['h', history[0]], ['u', update]] as const) {
      const body = JSON.stringify({ useCase: 'build.project-drift', event });
      expect(await handleBatch({ Records: [sqsRecord(id, body)] }, undefined, deps)).toEqual({ batchItemFailures: [] });
    }
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
    const stored: Finding[] = [];
    for await (const f of findings.byDay('2026-10-25')) stored.push(f);
    expect(stored.map((f) => f.severity)).toEqual(['critical']);
  });

  it('a RemoveTargets on the monitor\'s rule with a target id `{"toString": 1}` (found by the fuzzer) is still CRITICAL', async () => {
    const { events } = loadCase('monitor/rule-tamper/cases/remove-targets.json');
    const { engine } = await dynamo.freshEngine({});
    const event = structuredClone(events[0]) as { detail: { requestParameters: Json } };
    event.detail.requestParameters['ids'] = [{ toString: 1 }, 'Target0'];
    const useCase = useCaseById('monitor.rule-tamper')!;
    const outcomes = await engine.evaluate(useCase, toPipelineEvent(event as never));
    expect(outcomes.map((o) => (o.status === 'finding' ? o.finding.severity : o.status))).toEqual(['critical']);
  });

  it('the notify Lambda reads a stream image with escaped keys back as the finding that was written', async () => {
    const written = { ...finding(), evidence: JSON.parse('{"tags":{"__proto__":"a","constructor":"b","":"c"}}') as Record<string, unknown> };
    const image = marshall(escapeKeys(written), { removeUndefinedValues: true }) as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'];
    const received: Finding[] = [];
    const result = await handleStream({ Records: [{ eventName: 'INSERT', dynamodb: { SequenceNumber: '1', NewImage: image } }] }, { notifier: { notify: async (f: Finding) => void received.push(f) } });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(canonicalJson(received[0])).toBe(canonicalJson(written));
    expect(Object.keys((received[0]?.evidence['tags'] ?? {}) as object).sort()).toEqual(['', '__proto__', 'constructor']);
  });

  it('diffs and merges treat prototype-named keys as data', () => {
    const before = JSON.parse('{"tags":{"constructor":"a","__proto__":"p"}}') as JsonObject;
    const after = JSON.parse('{"tags":{"constructor":"b","toString":"t","__proto__":{"polluted":true}}}') as JsonObject;
    expect(diffState(before, after)).toEqual([
      { path: 'tags.__proto__', change: 'changed', before: 'p', after: { polluted: true } },
      { path: 'tags.constructor', change: 'changed', before: 'a', after: 'b' },
      { path: 'tags.toString', change: 'added', after: 't' },
    ]);
    const merged = mergeState(before, after);
    expect(Object.getPrototypeOf(merged['tags'])).not.toHaveProperty('polluted');
    expect(Object.keys(merged['tags'] as object).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(diffState({}, JSON.parse('{"constructor":1}') as JsonObject)).toEqual([{ path: 'constructor', change: 'added', after: 1 }]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

