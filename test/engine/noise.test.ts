/**
 * Noise control in the engine: dedup windows (a repeat updates the first finding's count and content
 * hash, never writes or alerts again), staging (a new use case attests for N days of event time) and
 * attest mode, both saying what they held back.
 */
import { describe, expect, it } from 'vitest';
import type { BuildwatchConfigInput } from '../../lambdas/config/config.js';
import { contentHashOf } from '../../lambdas/engine/canonical.js';
import { parseConfig } from '../../lambdas/config/config.js';
import { Engine, type Outcome } from '../../lambdas/engine/engine.js';
import { noLookups } from '../../lambdas/lookups/lookups.js';
import { envelopeForCloudTrail, type CloudTrailRecord } from '../../lambdas/engine/events.js';
import type { Finding, Severity } from '../../lambdas/engine/model.js';
import { toPipelineEvent } from '../../lambdas/engine/pipeline-event.js';
import { defineUseCase, type UseCase } from '../../lambdas/engine/use-case.js';
import { amendableOnTheClock, FindingsStore } from '../../lambdas/store/findings-store.js';
import { useLocalDynamo } from '../support/local-dynamo.js';

const dynamo = useLocalDynamo();

let counter = 0;
function event(time: string, overrides: Partial<CloudTrailRecord> = {}) {
  counter += 1;
  const record: CloudTrailRecord = {
    eventVersion: '1.09',
    eventTime: time,
    eventSource: 'codecommit.amazonaws.com',
    eventName: 'DeleteBranch',
    awsRegion: 'eu-west-1',
    eventID: `e0000000-0000-4000-8000-${String(counter).padStart(12, '0')}`,
    eventType: 'AwsApiCall',
    recipientAccountId: '111122223333',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/bob', accountId: '111122223333', userName: 'bob' },
    requestParameters: { repositoryName: 'payments-service' },
    ...overrides,
  };
  return toPipelineEvent(envelopeForCloudTrail(record));
}

function probe(id = 'source.noisy', options: { severity?: (e: ReturnType<typeof event>) => Severity; answers?: 'monitor.health'; attestation?: boolean } = {}): UseCase {
  return defineUseCase({
    metadata: {
      id,
      answers: options.answers ?? 'source.protection-change',
      title: 'Noisy probe for noise-control tests',
      stage: id.split('.')[0] as 'source',
      description: 'Reports every event about the repository under one dedup key.',
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
      evaluate: (e) => ({
        summary: `${e.cloudTrail?.eventName} on payments-service`,
        resource: 'payments-service',
        dedupKey: 'payments-service|branch',
        ...(options.severity ? { severity: options.severity(e) } : {}),
        ...(options.attestation ? { attestation: true } : {}),
      }),
    },
  });
}

const findingsOf = (outcomes: Outcome[]): Finding[] => outcomes.flatMap((o) => (o.status === 'finding' && o.created ? [o.finding] : []));

describe('dedup windows', () => {
  const config: BuildwatchConfigInput = { useCases: { 'source.noisy': { dedupWindowMinutes: 60 } } };

  it('folds repeats within the window into the first finding: count and lastSeen updated, content hash recomputed, nothing new written', async () => {
    const { engine, findings } = await dynamo.freshEngine(config);
    const useCase = probe();
    const [first] = findingsOf(await engine.evaluate(useCase, event('2026-10-20T10:00:00Z')));
    expect(first).toBeDefined();
    const second = await engine.evaluate(useCase, event('2026-10-20T10:20:00Z'));
    const third = await engine.evaluate(useCase, event('2026-10-20T10:59:00Z'));
    expect(second).toEqual([expect.objectContaining({ status: 'deduplicated', into: first!.id, counted: true })]);
    expect(third).toEqual([expect.objectContaining({ status: 'deduplicated', into: first!.id, counted: true })]);
    const stored = (await findings.get(first!.id))!;
    expect(stored).toMatchObject({ occurrences: 3, lastSeen: '2026-10-20T10:59:00Z', eventTime: '2026-10-20T10:00:00Z', mode: 'alert' });
    // The ledger's verify recomputes it: it must match the amended content.
    expect(stored.contentHash).toBe(contentHashOf(stored as unknown as Record<string, unknown>));
    expect(stored.contentHash).not.toBe(first!.contentHash);
    expect([...(await collect(findings.byDay('2026-10-20')))].map((f) => f.id)).toEqual([first!.id]);
  });

  it('opens a new window (a new finding, alerted) after the window, and keeps mode and severity apart', async () => {
    const { engine } = await dynamo.freshEngine(config);
    const useCase = probe('source.noisy', { severity: (e) => (e.cloudTrail?.eventName === 'DeleteRepository' ? 'high' : 'medium') });
    const a = findingsOf(await engine.evaluate(useCase, event('2026-10-20T10:00:00Z')));
    const b = findingsOf(await engine.evaluate(useCase, event('2026-10-20T11:00:00Z'))); // exactly 60 min later: outside
    const c = findingsOf(await engine.evaluate(useCase, event('2026-10-20T11:05:00Z', { eventName: 'DeleteRepository' }))); // higher severity: its own
    const d = await engine.evaluate(useCase, event('2026-10-20T11:10:00Z'));
    expect([a, b, c].map((list) => list.length)).toEqual([1, 1, 1]);
    expect(c[0]!.severity).toBe('high');
    expect(d[0]).toMatchObject({ status: 'deduplicated', into: b[0]!.id });
  });

  it('counts a redelivered repeat once, and a redelivered first occurrence is the usual duplicate', async () => {
    const { engine, findings } = await dynamo.freshEngine(config);
    const useCase = probe();
    const firstEvent = event('2026-10-20T10:00:00Z');
    const repeat = event('2026-10-20T10:05:00Z');
    const [first] = findingsOf(await engine.evaluate(useCase, firstEvent));
    await engine.evaluate(useCase, repeat);
    expect(await engine.evaluate(useCase, repeat)).toEqual([expect.objectContaining({ status: 'deduplicated', counted: false })]);
    expect(await engine.evaluate(useCase, firstEvent)).toEqual([expect.objectContaining({ status: 'finding', created: false })]);
    expect((await findings.get(first!.id))!.occurrences).toBe(2);
  });

  it('also folds a repeat that arrives out of order (earlier than the first, within the window)', async () => {
    const { engine, findings } = await dynamo.freshEngine(config);
    const useCase = probe();
    const [first] = findingsOf(await engine.evaluate(useCase, event('2026-10-20T10:30:00Z')));
    expect((await engine.evaluate(useCase, event('2026-10-20T10:00:00Z')))[0]).toMatchObject({ status: 'deduplicated' });
    expect((await findings.get(first!.id))!).toMatchObject({ occurrences: 2, lastSeen: '2026-10-20T10:30:00Z' });
  });

  it('never changes a finding whose day may be sealed: the repeat becomes a finding of its own', async () => {
    const stores = await dynamo.freshStores();
    // The cloud's rule, with a clock two days after the first finding's day.
    const sealedSoon = new FindingsStore(stores.doc, stores.tables.findings, { amendableDay: amendableOnTheClock(() => new Date('2026-10-22T02:00:00Z')) });
    const engine = new Engine({ config: parseConfig({ useCases: { 'source.noisy': { dedupWindowMinutes: 1440 } } }), lookups: noLookups, state: stores.state, findings: sealedSoon });
    const useCase = probe();
    const [first] = findingsOf(await engine.evaluate(useCase, event('2026-10-20T23:50:00Z')));
    const late = findingsOf(await engine.evaluate(useCase, event('2026-10-21T00:10:00Z')));
    expect(late).toHaveLength(1);
    expect((await sealedSoon.get(first!.id))!.occurrences).toBeUndefined();
    expect(amendableOnTheClock(() => new Date('2026-10-21T23:59:00Z'))('2026-10-20')).toBe(true);
    expect(amendableOnTheClock(() => new Date('2026-10-22T00:00:00Z'))('2026-10-20')).toBe(false);
  });

  it('takes the window from the use case, else its metadata, else defaults; at most 1440 minutes', async () => {
    const withDefault = defineUseCase({ ...probe(), metadata: { ...probe().metadata, dedupWindowMinutes: 30 } });
    const { policyFor } = await import('../../lambdas/engine/policy.js');
    expect(policyFor(withDefault.metadata, parseConfig({})).dedupWindowMinutes).toBe(30);
    expect(policyFor(withDefault.metadata, parseConfig({ useCases: { 'source.noisy': { dedupWindowMinutes: 0 } } })).dedupWindowMinutes).toBe(0);
    expect(policyFor(probe().metadata, parseConfig({ defaults: { dedupWindowMinutes: 15 } })).dedupWindowMinutes).toBe(15);
    expect(() => parseConfig({ useCases: { 'source.noisy': { dedupWindowMinutes: 1441 } } })).toThrow(/useCases\["source\.noisy"\]\.dedupWindowMinutes/);
    expect(() => parseConfig({ defaults: { stagingDays: -1 } })).toThrow(/defaults\.stagingDays/);
  });

  it('costs nothing without a window: no dedup state is read or written', async () => {
    const { engine, state } = await dynamo.freshEngine({});
    const useCase = probe();
    await engine.evaluate(useCase, event('2026-10-20T10:00:00Z'));
    const before = state.calls;
    expect(findingsOf(await engine.evaluate(useCase, event('2026-10-20T10:01:00Z')))).toHaveLength(1);
    expect(state.calls - before).toBe(0);
  });
});

describe('staging and attest mode', () => {
  it('a newly enabled use case attests for its staging days (event time, from its first evaluated event), then alerts', async () => {
    const { engine } = await dynamo.freshEngine({ defaults: { stagingDays: 7 } });
    const useCase = probe();
    const early = findingsOf(await engine.evaluate(useCase, event('2026-10-01T09:00:00Z')));
    const stillStaged = findingsOf(await engine.evaluate(useCase, event('2026-10-08T08:59:59Z', { requestParameters: { repositoryName: 'x' } })));
    const live = findingsOf(await engine.evaluate(useCase, event('2026-10-08T09:00:00Z')));
    expect(early[0]).toMatchObject({ mode: 'attest', heldBack: 'staging' });
    expect(stillStaged[0]).toMatchObject({ mode: 'attest', heldBack: 'staging' });
    expect(live[0]!.mode).toBe('alert');
    expect(live[0]!.heldBack).toBeUndefined();
  });

  it('counts from the earliest event evaluated, even one that produced no finding, and per use case', async () => {
    const { engine } = await dynamo.freshEngine({ useCases: { 'source.noisy': { stagingDays: 3 } } });
    const quiet = defineUseCase({ ...probe(), metadata: { ...probe().metadata }, logic: { kind: 'match', evaluate: () => undefined } });
    // The same id: a quiet first week still counts as running.
    await engine.evaluate(quiet, event('2026-10-01T00:00:00Z'));
    expect(findingsOf(await engine.evaluate(probe(), event('2026-10-05T00:00:00Z')))[0]!.mode).toBe('alert');
    expect(findingsOf(await engine.evaluate(probe('source.other'), event('2026-10-05T00:00:00Z')))[0]!.mode).toBe('alert'); // no staging configured for it
  });

  it('never stages the monitor\'s health checks, nor turns attestations into anything else', async () => {
    const { engine } = await dynamo.freshEngine({ defaults: { stagingDays: 30 } });
    expect(findingsOf(await engine.evaluate(probe('monitor.health-probe', { answers: 'monitor.health' }), event('2026-10-01T00:00:00Z')))[0]!.mode).toBe('alert');
    const attestation = findingsOf(await engine.evaluate(probe('source.evidence', { attestation: true }), event('2026-10-01T00:00:00Z')))[0]!;
    expect(attestation.mode).toBe('attest');
    expect(attestation.heldBack).toBeUndefined();
  });

  it('attest mode says it held an alert back', async () => {
    const { engine } = await dynamo.freshEngine({ useCases: { 'source.noisy': { mode: 'attest' } } });
    expect(findingsOf(await engine.evaluate(probe(), event('2026-10-01T00:00:00Z')))[0]).toMatchObject({ mode: 'attest', heldBack: 'mode' });
  });

  it('keeps the CloudTrail event id for console links', async () => {
    const { engine } = await dynamo.freshEngine({});
    const e = event('2026-10-01T00:00:00Z');
    expect(findingsOf(await engine.evaluate(probe(), e))[0]!.cloudTrailEventId).toBe(e.cloudTrail!.eventID);
  });
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}
