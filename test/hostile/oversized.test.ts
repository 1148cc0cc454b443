/**
 * Defect 5 (issue 13): oversized items. A 200 KB request parameter or a 5 MB user agent made the
 * finding larger than DynamoDB's 400 KB item limit and the CRITICAL alert was lost; `backfill
 * --what-if` (no DynamoDB writes for findings) then disagreed with `replay`. Against dynalite, which
 * enforces the limit like DynamoDB.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { runBackfillCommand } from '../../bin/commands/backfill.js';
import { runReplay } from '../../bin/commands/replay.js';
import { boundText, fitItem, itemBytes, keyPart } from '../../lambdas/engine/bounds.js';
import type { Finding } from '../../lambdas/engine/model.js';
import { toPipelineEvent } from '../../lambdas/engine/pipeline-event.js';
import { handleBatch } from '../../lambdas/handlers/detect.js';
import { useCaseById } from '../../lambdas/use-cases/index.js';
import { capture, jsonLines } from '../support/capture.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { loadCase, sqsRecord, stopLogging, type Json } from './support.js';
import { tempDir } from '../support/temp-dirs.js';

const dynamo = useLocalDynamo();
const sqsMock = mockClient(SQSClient);
const DYNAMO_ITEM_LIMIT = 400 * 1024;

const hugeParameter = (): Json => stopLogging('huge-param', { requestParameters: { name: 'org-trail', comment: 'x'.repeat(200 * 1024) } });
const hugeUserAgent = (): Json => stopLogging('huge-agent', { userAgent: `aws-cli/2 ${'A'.repeat(5 * 1024 * 1024)}` });
const hugeUnicode = (): Json => stopLogging('huge-unicode', { userAgent: '🦀'.repeat(300 * 1024), requestParameters: { name: `org-trail-${'é'.repeat(150 * 1024)}` } });

describe('oversized events', () => {
  beforeEach(() => {
    sqsMock.reset();
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'dlq' });
  });

  it.each([
    ['a 200 KB request parameter', hugeParameter],
    ['a 5 MB user agent', hugeUserAgent],
    ['multi-byte text over the limit', hugeUnicode],
    // Found by the fuzzer: numbers the SDK or DynamoDB refuse (2^60, 1e-300) in stored evidence.
    ['numbers DynamoDB cannot store', () => stopLogging('odd-numbers', { requestParameters: { name: 'org-trail', big: 2 ** 60, tiny: 1e-300, list: [Number.MAX_VALUE, -(2 ** 70)] } })],
  ])('StopLogging with %s still raises the CRITICAL alert, in an item under 400 KB', async (_label, make) => {
    const { engine, findings, doc, tables } = await dynamo.freshEngine({});
    const deps = { engine, sqs: new SQSClient({ region: 'eu-west-1' }), deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/dlq' };
    const body = JSON.stringify({ useCase: 'monitor.cloudtrail-tamper', event: make() });
    expect(await handleBatch({ Records: [sqsRecord('m', body)] }, undefined, deps)).toEqual({ batchItemFailures: [] });
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
    const stored: Finding[] = [];
    for await (const f of findings.byDay('2026-10-26')) stored.push(f);
    expect(stored.map((f) => [f.useCase, f.severity, f.mode])).toEqual([['monitor.cloudtrail-tamper', 'critical', 'alert']]);
    const { Items } = await doc.send(new ScanCommand({ TableName: tables.findings }));
    for (const item of Items ?? []) expect(itemBytes(item)).toBeLessThan(DYNAMO_ITEM_LIMIT);
  });

  it('a drift snapshot of a project with huge fields is stored, and the next update is judged against it', async () => {
    const { history, events } = loadCase('build/project-drift/cases/inline-buildspec-and-secret-variable.json');
    const { engine, doc, tables } = await dynamo.freshEngine({});
    const useCase = useCaseById('build.project-drift')!;
    const create = structuredClone(history[0]) as { detail: { responseElements: { project: Json } } };
    create.detail.responseElements.project['description'] = 'd'.repeat(300 * 1024);
    create.detail.responseElements.project['tags'] = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: 'v'.repeat(256) }));
    expect(await engine.evaluate(useCase, toPipelineEvent(create as never))).toEqual([expect.objectContaining({ status: 'skipped' })]);
    const update = structuredClone(events[0]) as { detail: { requestParameters: Json } };
    update.detail.requestParameters['description'] = 'd'.repeat(300 * 1024);
    const outcomes = await engine.evaluate(useCase, toPipelineEvent(update as never));
    const findings = outcomes.flatMap((o) => (o.status === 'finding' ? [o.finding] : []));
    expect(findings.map((f) => f.severity)).toEqual(['critical']);
    // The unchanged (long) description is not reported as changed: bounded the same way on both sides.
    expect(findings[0]?.evidence['diff']).not.toContainEqual(expect.objectContaining({ path: 'description' }));
    // Beyond anything AWS accepts (50 tags of 8 KB each): still written, cut harder as a whole.
    const wider = structuredClone(update);
    wider.detail.requestParameters['tags'] = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: 'w'.repeat(8 * 1024) }));
    (wider as unknown as { id: string }).id = 'eb-wider';
    await engine.evaluate(useCase, toPipelineEvent(wider as never));
    const { Items } = await doc.send(new ScanCommand({ TableName: tables.state }));
    expect(Items?.length).toBeGreaterThan(0);
    for (const item of Items ?? []) expect(itemBytes(item)).toBeLessThan(DYNAMO_ITEM_LIMIT);
  });

  it('a snapshot whose key (a resource name from the event) is over DynamoDB\'s key limit is still kept (fuzz finding)', async () => {
    const { state } = await dynamo.freshStores();
    const key = `policy/111122223333/${'d'.repeat(5000)}`;
    const snapshot = { state: { owner: '1' }, version: 1, updatedAt: '2026-10-26T03:10:00Z', lastEventId: 'e1' };
    expect(await state.putSnapshot('artifact.policy-grant', key, snapshot, undefined)).toBe(true);
    expect(await state.getSnapshot('artifact.policy-grant', key)).toMatchObject({ state: { owner: '1' }, version: 1 });
    expect(await state.getSnapshot('artifact.policy-grant', `${key}x`)).toBeUndefined();
  });

  it('backfill --what-if agrees with replay on an oversized StopLogging', async () => {
    const dir = tempDir('buildwatch-oversized-');
    const records = [hugeParameter(), hugeUnicode()].map((event) => event['detail'] as Json);
    writeFileSync(join(dir, 'trail.json'), JSON.stringify({ Records: records }));
    const replay = capture();
    expect((await runReplay([dir], { json: true }, replay.io)).exitCode).toBe(0);
    const replayed = jsonLines(replay.out()) as unknown as Finding[];
    expect(replayed.map((f) => [f.useCase, f.severity])).toEqual([
      ['monitor.cloudtrail-tamper', 'critical'],
      ['monitor.cloudtrail-tamper', 'critical'],
    ]);
    const backfill = capture();
    const { exitCode, result } = await runBackfillCommand([dir], { whatIf: true }, backfill.io, { env: {} });
    expect(exitCode).toBe(0);
    expect(result?.tallies.byUseCase['monitor.cloudtrail-tamper']?.alerts).toBe(2);
  });

  it('bounds text, keys and whole items deterministically', () => {
    const cut = boundText('a'.repeat(100_000), 1000);
    expect(cut.length).toBeLessThanOrEqual(1000);
    expect(cut).toMatch(/…\[cut from 100000 chars, sha256:[0-9a-f]{12}\]$/);
    expect(boundText('a'.repeat(100_000), 1000)).toBe(cut);
    expect(boundText(`${'a'.repeat(950)}🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀`, 1000)).not.toMatch(/[\ud800-\udbff]…/);
    expect(Buffer.byteLength(keyPart('k'.repeat(5000)))).toBeLessThanOrEqual(1024);
    expect(keyPart('short')).toBe('short');
    const wide = { pk: 'p', sk: 's', list: Array.from({ length: 100_000 }, (_, i) => i), map: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`key${i}`, 'v'.repeat(500)])) };
    const fitted = fitItem(wide, ['pk', 'sk']);
    expect(itemBytes(fitted)).toBeLessThan(DYNAMO_ITEM_LIMIT);
    expect(fitted).toMatchObject({ pk: 'p', sk: 's' });
    const small = { pk: 'p', text: 'ok' };
    expect(fitItem(small, ['pk'])).toBe(small);
  });
});
