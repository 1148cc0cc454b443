import { describe, expect, it } from 'vitest';
import { CollectingSink, MAX_DISTINCT_KEYS, OTHER_KEY, topEntries } from '../../lambdas/backfill/collecting-sink.js';
import { eventSourcesOf, eventSourcesOfPattern, expandOr } from '../../lambdas/backfill/event-sources.js';
import { isThrottling, TokenBucket, withRetries } from '../../lambdas/backfill/rate-limit.js';
import { whatIfReport, whatIfText } from '../../lambdas/backfill/what-if-report.js';
import { parseConfig } from '../../lambdas/config/config.js';
import type { Finding } from '../../lambdas/engine/model.js';
import { defineUseCase, type UseCase } from '../../lambdas/engine/use-case.js';
import { useCases as registry } from '../../lambdas/use-cases/index.js';
import { fakeClock } from './fixtures.js';

function useCase(id: string, pattern: Record<string, unknown>): UseCase {
  return defineUseCase({
    metadata: {
      id,
      answers: 'monitor.tamper',
      title: 'A test use case',
      stage: 'monitor',
      description: 'A use case for the tests of the backfill.',
      severity: 'high',
      defaultMode: 'alert',
      riskReduction: 3,
      effort: 1,
      mitre: ['T1562'],
      falsePositives: ['none'],
      runbook: 'Nothing to do here.',
    },
    pattern: pattern as never,
    logic: { kind: 'match', evaluate: () => undefined },
  });
}

describe('event sources from use-case patterns', () => {
  it('covers every registered use case that reads CloudTrail', () => {
    const sources = eventSourcesOf(registry);
    for (const source of ['codecommit.amazonaws.com', 'codebuild.amazonaws.com', 'cloudtrail.amazonaws.com']) expect(sources).toContain(source);
    expect(sources).toEqual([...new Set(sources)].sort());
  });

  it('walks $or at any level, skips branches only native events match, and falls back to the source', () => {
    expect(expandOr({ a: ['1'], $or: [{ b: ['2'] }, { c: ['3'], detail: { $or: [{ d: ['4'] }, { e: ['5'] }] } }] })).toEqual([
      { a: ['1'], b: ['2'] },
      { a: ['1'], c: ['3'], detail: { d: ['4'] } },
      { a: ['1'], c: ['3'], detail: { e: ['5'] } },
    ]);
    const pattern = {
      $or: [
        { source: ['aws.codecommit'], 'detail-type': ['CodeCommit Repository State Change'] },
        { source: ['aws.kms'], 'detail-type': ['AWS API Call via CloudTrail'], detail: { $or: [{ eventSource: ['kms.amazonaws.com'] }, { eventSource: ['signer.amazonaws.com'], eventName: ['PutSigningProfile'] }] } },
        { source: ['aws.events'], 'detail-type': ['AWS API Call via CloudTrail'], detail: { eventName: [{ prefix: 'Disable' }] } },
        { detail: { eventSource: [{ prefix: 'lambda' }] } },
      ],
    };
    expect(eventSourcesOfPattern(pattern)).toEqual(['events.amazonaws.com', 'kms.amazonaws.com', 'signer.amazonaws.com']);
  });

  it('leaves out use cases switched off in the configuration', () => {
    const a = useCase('monitor.test-a', { source: ['aws.cloudtrail'], detail: { eventSource: ['cloudtrail.amazonaws.com'] } });
    const b = useCase('monitor.test-b', { source: ['aws.lambda'], 'detail-type': ['AWS API Call via CloudTrail'] });
    expect(eventSourcesOf([a, b])).toEqual(['cloudtrail.amazonaws.com', 'lambda.amazonaws.com']);
    expect(eventSourcesOf([a, b], parseConfig({ useCases: { 'monitor.test-b': { mode: 'off' } } }))).toEqual(['cloudtrail.amazonaws.com']);
  });
});

describe('token bucket and retries', () => {
  it('spaces requests so no second holds more than the rate, however many callers wait', async () => {
    const clock = fakeClock(0);
    const bucket = new TokenBucket({ ratePerSecond: 2 }, clock);
    const times: number[] = [];
    await Promise.all(Array.from({ length: 21 }, () => bucket.take().then(() => times.push(clock.now()))));
    expect(times).toHaveLength(21);
    expect(times[0]).toBe(0);
    expect(times.at(-1)).toBe(10_000);
    for (const t of times) expect(times.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(2);
    // Idle time refills at most the capacity: after a pause, one request goes at once, the next waits.
    clock.advance(60_000);
    const before = clock.now();
    await bucket.take();
    await bucket.take();
    expect(clock.now() - before).toBe(500);
  });

  it('retries throttling with exponential backoff and full jitter, and nothing else', async () => {
    const clock = fakeClock(0);
    let calls = 0;
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const value = await withRetries(
      async () => {
        calls += 1;
        if (calls <= 3) throw throttled;
        return 'ok';
      },
      { clock, random: () => 0.5, baseDelayMs: 100 },
    );
    expect(value).toBe('ok');
    expect(clock.sleeps).toEqual([50, 100, 200]);
    await expect(withRetries(async () => Promise.reject(Object.assign(new Error('no'), { name: 'AccessDeniedException' })), { clock })).rejects.toThrow('no');
    await expect(withRetries(async () => Promise.reject(throttled), { clock, maxAttempts: 2, random: () => 0 })).rejects.toBe(throttled);
    expect(isThrottling({ name: 'Other', $metadata: { httpStatusCode: 429 } })).toBe(true);
    expect(isThrottling({ name: 'Other', $retryable: { throttling: true } })).toBe(true);
    expect(isThrottling(new Error('x'))).toBe(false);
  });
});

function finding(overrides: Partial<Finding>): Finding {
  return {
    id: 'f',
    useCase: 'source.new-pusher',
    answers: 'source.new-contributor',
    stage: 'source',
    severity: 'high',
    mode: 'alert',
    title: 't',
    summary: 's',
    eventId: 'e',
    eventTime: '2026-09-20T10:00:00Z',
    day: '2026-09-20',
    principal: 'arn:aws:iam::111122223333:user/mallory',
    dedupKey: 'payments-service|mallory',
    resource: 'payments-service',
    evidence: {},
    runbook: 'r',
    recordedAt: '2026-10-01T00:00:00Z',
    contentHash: 'h',
    ...overrides,
  } as Finding;
}

describe('what-if tallies and report', () => {
  it('counts each finding once, per use case, with the commonest keys, and bounds the keys kept', async () => {
    const sink = new CollectingSink();
    expect(await sink.put(finding({ id: '1' }))).toBe('created');
    expect(await sink.put(finding({ id: '1' }))).toBe('duplicate');
    await sink.put(finding({ id: '2', principal: 'arn:aws:iam::111122223333:user/eve', dedupKey: 'payments-service|eve', eventTime: '2026-09-03T00:00:00Z' }));
    await sink.put(finding({ id: '3', dedupKey: 'web|mallory', resource: 'web', mode: 'attest', severity: 'info' }));
    const tally = sink.tallies.byUseCase['source.new-pusher'];
    expect(tally).toMatchObject({ alerts: 2, attestations: 1, bySeverity: { high: 2, info: 1 }, firstEventTime: '2026-09-03T00:00:00Z', lastEventTime: '2026-09-20T10:00:00Z' });
    expect(sink.tallies.repeats).toBe(1);
    expect(topEntries(tally!.principals, 1)).toEqual([{ key: 'arn:aws:iam::111122223333:user/mallory', count: 2 }]);

    const many = new CollectingSink();
    for (let index = 0; index < MAX_DISTINCT_KEYS + 10; index += 1) await many.put(finding({ id: `id-${index}`, dedupKey: `key-${index}` }));
    const keys = many.tallies.byUseCase['source.new-pusher']!.dedupKeys;
    expect(Object.keys(keys)).toHaveLength(MAX_DISTINCT_KEYS + 1);
    expect(keys[OTHER_KEY]).toBe(10);
  });

  it('counts CI build sessions as their role, as baselines do, and keeps people apart', async () => {
    const sink = new CollectingSink();
    const session = (name: string): string => `arn:aws:sts::111122223333:assumed-role/codebuild-payments-role/${name}`;
    await sink.put(finding({ id: 'a', principal: session('AWSCodeBuild-5e0a1b2c-1111-4222-8333-944455556666') }));
    await sink.put(finding({ id: 'b', principal: session('AWSCodeBuild-0f9e8d7c-aaaa-4bbb-8ccc-ddddeeeeffff') }));
    await sink.put(finding({ id: 'c', principal: session('alice') }));
    const principals = topEntries(sink.tallies.byUseCase['source.new-pusher']!.principals, 5);
    expect(principals).toEqual([
      { key: session('*'), count: 2 },
      { key: session('alice'), count: 1 },
    ]);
  });

  it('lists every enabled use case, quiet ones too, and neutralises keys taken from events', async () => {
    const sink = new CollectingSink();
    await sink.put(finding({ id: '1', principal: 'arn:aws:iam::111122223333:user/x\u001b[31mred' }));
    const config = parseConfig({ useCases: { 'monitor.cloudtrail-tamper': { mode: 'off' } } });
    const report = whatIfReport(sink.tallies, { events: 10, routed: 4, files: 1, requests: 0, throttled: 0, windows: 0, currentState: 0, problems: 0, firstEventTime: 'a', lastEventTime: 'b' }, registry, config, 3);
    expect(report.useCases[0]).toMatchObject({ id: 'source.new-pusher', alerts: 1, kind: 'firstSeen', mode: 'alert' });
    expect(report.useCases.map((u) => u.id)).not.toContain('monitor.cloudtrail-tamper');
    expect(report.useCases.find((u) => u.id === 'build.project-drift')).toMatchObject({ alerts: 0, attestations: 0, topDedupKeys: [] });
    const text = whatIfText(report);
    expect(text).toContain('source.new-pusher  [firstSeen, mode alert]  1 alert');
    expect(text).toContain('build.project-drift  [drift, mode alert]  none');
    expect(text).toContain('Total: 1 alert and 0 attestations would have been recorded.');
    expect(text).not.toContain('\u001b');
  });
});
