import { join } from 'node:path';
import {
  AccessDeniedException,
  CloudTrailClient,
  InvalidNextTokenException,
  LookupEventsCommand,
  type LookupEventsCommandInput,
  ThrottlingException,
} from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import { allCustomMatcher } from 'aws-sdk-client-mock-vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { runBackfillCommand } from '../../bin/commands/backfill.js';
import { runBackfill, type BackfillDeps } from '../../lambdas/backfill/backfill.js';
import { FileCheckpoint, MemoryCheckpoint, newCheckpointData, type CheckpointStore } from '../../lambdas/backfill/checkpoint.js';
import { CollectingSink } from '../../lambdas/backfill/collecting-sink.js';
import { lookupPlan, windowCount } from '../../lambdas/backfill/lookup-events.js';
import { parseConfig } from '../../lambdas/config/config.js';
import { Engine } from '../../lambdas/engine/engine.js';
import { envelopeForCloudTrail, type CloudTrailRecord as ParsedRecord } from '../../lambdas/engine/events.js';
import { toPipelineEvent } from '../../lambdas/engine/pipeline-event.js';
import { noLookups } from '../../lambdas/lookups/lookups.js';
import type { StateStore } from '../../lambdas/store/state-store.js';
import buildProjectDrift from '../../lambdas/use-cases/build/project-drift/use-case.js';
import sourceNewPusher from '../../lambdas/use-cases/source/new-pusher/use-case.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import {
  at,
  capture,
  createProject,
  describeSomething,
  fakeClock,
  gitPush,
  project,
  updateProject,
  userArn,
  workdir,
  writeConfig,
  type CloudTrailRecord,
} from './fixtures.js';

expect.extend(allCustomMatcher);

const local = useLocalDynamo();
const CONFIG = { pipeline: { repositories: ['payments-service'], buildProjects: [{ name: 'payments-service-build' }] } };
const USE_CASES = [sourceNewPusher, buildProjectDrift];
const REGIONS = ['eu-west-1', 'us-east-1'];
const NOW = Date.parse('2026-10-01T00:00:00Z');

/**
 * September in two regions: alice pushes daily, a busy day 10 (120 pushes: three pages), mallory
 * first pushes on day 20 (after learning), the build project is created on day 2 and its image
 * changed on day 12; us-east-1 has a second repository's pushes. Unwatched sources add noise.
 */
function history(): CloudTrailRecord[] {
  const records: CloudTrailRecord[] = [];
  for (let day = 1; day <= 30; day += 1) {
    records.push(gitPush({ user: 'alice', time: at(day, 9) }), describeSomething(at(day, 10)));
    records.push(gitPush({ user: 'bob', time: at(day, 9), region: 'us-east-1', repository: 'payments-service' }));
  }
  for (let minute = 0; minute < 120; minute += 1) records.push(gitPush({ user: minute % 2 ? 'alice' : 'bob', time: at(10, 12, minute % 60) }));
  records.push(gitPush({ user: 'mallory', time: at(20, 23, 30) }));
  records.push(createProject({ user: 'alice', time: at(2, 8), project: project('payments-service-build', 'aws/codebuild/standard:7.0') }));
  records.push(updateProject({ user: 'alice', time: at(12, 8), name: 'payments-service-build', image: 'aws/codebuild/standard:8.0' }));
  return records;
}

interface Call {
  readonly region: string;
  readonly input: LookupEventsCommandInput;
  readonly at: number;
}

/**
 * LookupEvents over a list of records, one mocked client per region: filters by event source and
 * inclusive time range, answers newest first, 50 a page, NextToken = offset. `fail` may throw for a
 * call (by global index) to simulate throttling or errors.
 */
function fakeCloudTrail(records: readonly CloudTrailRecord[], clock: { now(): number }, fail?: (index: number, call: Call) => Error | undefined) {
  const calls: Call[] = [];
  const clients = new Map<string, CloudTrailClient>();
  for (const region of REGIONS) {
    const client = new CloudTrailClient({ region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    mockClient(client)
      .on(LookupEventsCommand)
      .callsFake((input: LookupEventsCommandInput) => {
        const call = { region, input, at: clock.now() };
        calls.push(call);
        const error = fail?.(calls.length - 1, call);
        if (error) throw error;
        const source = input.LookupAttributes?.[0]?.AttributeValue;
        const start = input.StartTime!.getTime();
        const end = input.EndTime!.getTime();
        const matching = records
          .filter((record) => record.awsRegion === region && record.eventSource === source)
          .filter((record) => Date.parse(record.eventTime) >= start && Date.parse(record.eventTime) <= end)
          .sort((a, b) => Date.parse(b.eventTime) - Date.parse(a.eventTime));
        const offset = input.NextToken ? Number(input.NextToken.replace('tok-', '')) : 0;
        const page = matching.slice(offset, offset + (input.MaxResults ?? 50));
        const more = offset + page.length < matching.length;
        return {
          Events: page.map((record) => ({
            EventId: record.eventID,
            EventName: String(record['eventName']),
            EventSource: record.eventSource,
            EventTime: new Date(record.eventTime),
            ReadOnly: 'false',
            CloudTrailEvent: JSON.stringify(record),
          })),
          ...(more ? { NextToken: `tok-${offset + page.length}` } : {}),
        };
      });
    clients.set(region, client);
  }
  return { calls, clientFor: (region: string) => clients.get(region)! };
}

function deps(state: StateStore, checkpoint: CheckpointStore, clock: ReturnType<typeof fakeClock>, clientFor: BackfillDeps['cloudTrailFor']): BackfillDeps {
  return { config: parseConfig(CONFIG), useCases: USE_CASES, state, lookups: noLookups, checkpoint, clock, random: () => 0.5, cloudTrailFor: clientFor! };
}

const SOURCES = { lookupEvents: { regions: REGIONS, days: 30, windowHours: 24 } };
const memory = () => new MemoryCheckpoint(newCheckpointData('test', new Date(NOW).toISOString()));

/** The largest number of calls any one-second window holds, per region. */
function maxPerSecond(calls: readonly Call[], region: string): number {
  const times = calls.filter((call) => call.region === region).map((call) => call.at);
  let max = 0;
  for (let i = 0; i < times.length; i += 1) max = Math.max(max, times.filter((t) => t >= (times[i] as number) && t < (times[i] as number) + 1000).length);
  return max;
}

describe('backfill: LookupEvents', () => {
  it('asks per region and watched event source, one attribute a request, and pages with NextToken', async () => {
    const clock = fakeClock(NOW);
    const cloudTrail = fakeCloudTrail(history(), clock);
    const { state } = await local.freshStores();
    const result = await runBackfill(SOURCES, deps(state, memory(), clock, cloudTrail.clientFor));

    expect(result.eventSources).toEqual(['codebuild.amazonaws.com', 'codecommit.amazonaws.com']);
    // 30 day windows × 2 regions × 2 sources, plus two more pages for the busy day.
    expect(cloudTrail.calls).toHaveLength(30 * 2 * 2 + 2);
    for (const { input } of cloudTrail.calls) {
      expect(input.LookupAttributes).toHaveLength(1);
      expect(input.LookupAttributes?.[0]?.AttributeKey).toBe('EventSource');
      expect(input.MaxResults).toBe(50);
      expect(input.EndTime!.getTime() - input.StartTime!.getTime()).toBe(86_400_000);
    }
    const busyDay = cloudTrail.calls.filter(({ region, input }) => region === 'eu-west-1' && input.StartTime?.toISOString() === '2026-09-10T00:00:00.000Z' && input.LookupAttributes?.[0]?.AttributeValue === 'codecommit.amazonaws.com');
    expect(busyDay.map(({ input }) => input.NextToken)).toEqual([undefined, 'tok-50', 'tok-100']);
    // The EC2 noise was never asked for; every watched record was read exactly once.
    const watched = history().filter((record) => record.eventSource !== 'ec2.amazonaws.com');
    expect(result.counters).toMatchObject({ events: watched.length, requests: cloudTrail.calls.length, throttled: 0, windows: 30, problems: 0 });
    expect(result.counters.firstEventTime).toBe(at(1, 9));
  });

  it('processes each window oldest first, so learning periods and snapshots come out as if lived', async () => {
    const clock = fakeClock(NOW);
    const cloudTrail = fakeCloudTrail(history(), clock);
    const { state } = await local.freshStores();
    const result = await runBackfill(SOURCES, deps(state, memory(), clock, cloudTrail.clientFor));

    // Newest first, every first sighting would fall inside a learning period and mallory would pass.
    const pusher = result.tallies.byUseCase['source.new-pusher'];
    expect(pusher).toMatchObject({ alerts: 1, principals: { [userArn('mallory')]: 1 } });
    // The drift snapshot ends at the day-12 image: re-sending it is no change, the old one is.
    expect(result.tallies.byUseCase['build.project-drift']).toMatchObject({ alerts: 1 });
    const engine = new Engine({ config: parseConfig(CONFIG), lookups: noLookups, state, findings: new CollectingSink() });
    const later = (image: string) => toPipelineEvent(envelopeForCloudTrail(updateProject({ user: 'alice', time: '2026-10-02T08:00:00Z', name: 'payments-service-build', image }) as unknown as ParsedRecord));
    expect((await engine.evaluate(buildProjectDrift, later('aws/codebuild/standard:8.0')))[0]).toMatchObject({ status: 'skipped' });
    const reverted = await engine.evaluate(buildProjectDrift, later('aws/codebuild/standard:7.0'));
    expect(reverted[0]).toMatchObject({ status: 'finding', finding: { evidence: { diff: [{ path: 'environment.image', before: 'aws/codebuild/standard:8.0', after: 'aws/codebuild/standard:7.0' }] } } });
  });

  it('keeps to 2 requests per second per region on a fake clock, and retries throttling with backoff', async () => {
    const clock = fakeClock(NOW);
    // The service throttles anyway now and then (every 17th call).
    const cloudTrail = fakeCloudTrail(history(), clock, (index) => (index % 17 === 5 ? new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }) : undefined));
    const { state } = await local.freshStores();
    const result = await runBackfill(SOURCES, deps(state, memory(), clock, cloudTrail.clientFor));

    const throttled = cloudTrail.calls.filter((_, index) => index % 17 === 5).length;
    expect(throttled).toBeGreaterThan(5);
    expect(result.counters.throttled).toBe(throttled);
    expect(result.counters.requests).toBe(30 * 2 * 2 + 2 + throttled);
    expect(result.counters.events).toBe(history().filter((record) => record.eventSource !== 'ec2.amazonaws.com').length);
    // Backoff with full jitter (random 0.5): 250 ms before the first retry.
    expect(clock.sleeps).toContain(250);
    for (const region of REGIONS) {
      expect(maxPerSecond(cloudTrail.calls, region)).toBeLessThanOrEqual(2);
      const times = cloudTrail.calls.filter((call) => call.region === region).map((call) => call.at);
      const perSecond = ((times.length - 1) * 1000) / ((times.at(-1) as number) - (times[0] as number));
      expect(perSecond).toBeLessThanOrEqual(2);
    }
    // Regions do not share a budget: the busiest second of the run holds calls of both.
    const allTimes = cloudTrail.calls.map((call) => call.at);
    expect(Math.max(...allTimes.map((t) => allTimes.filter((u) => u >= t && u < t + 1000).length))).toBeGreaterThan(2);
  });

  it('gives up on a call that keeps failing, and names it', async () => {
    const clock = fakeClock(NOW);
    const cloudTrail = fakeCloudTrail(history(), clock, () => new AccessDeniedException({ message: 'not authorized to perform cloudtrail:LookupEvents', $metadata: { httpStatusCode: 403 } }));
    const { state } = await local.freshStores();
    await expect(runBackfill(SOURCES, deps(state, memory(), clock, cloudTrail.clientFor))).rejects.toThrow(
      /LookupEvents in (eu-west-1|us-east-1) for codebuild\.amazonaws\.com: AccessDeniedException: not authorized/,
    );
    // Not retried, and the other region stopped too.
    expect(cloudTrail.calls.length).toBeLessThanOrEqual(2);
  });

  it('resumes from the checkpoint without asking again for pages it had, with the same result', async () => {
    const records = history();
    const baselineClock = fakeClock(NOW);
    const baseline = fakeCloudTrail(records, baselineClock);
    const baselineResult = await runBackfill(SOURCES, deps((await local.freshStores()).state, memory(), baselineClock, baseline.clientFor));

    // Interrupted by an error on the second page of eu-west-1's busy day (the spilled first page
    // and us-east-1's pages of that day are in the checkpoint).
    const dir = workdir();
    const path = join(dir, 'checkpoint.json');
    const { state } = await local.freshStores();
    const clock = fakeClock(NOW);
    const failing = fakeCloudTrail(records, clock, (_, call) => (call.region === 'eu-west-1' && call.input.NextToken === 'tok-50' ? new Error('connection lost') : undefined));
    const first = await FileCheckpoint.create(path, newCheckpointData('args', new Date(NOW).toISOString()));
    await expect(runBackfill(SOURCES, deps(state, first, clock, failing.clientFor))).rejects.toThrow(/connection lost/);
    const saved = (await FileCheckpoint.load(path, 'args'))!;
    expect(saved.data.lookupEvents).toMatchObject({ windowIndex: 9, pendingLines: expect.any(Number) });
    expect(saved.data.lookupEvents?.cursors['eu-west-1 codecommit.amazonaws.com']).toMatchObject({ nextToken: 'tok-50', done: false, pages: 1 });

    const resumedCloudTrail = fakeCloudTrail(records, clock);
    const resumed = await runBackfill(SOURCES, deps(state, saved, clock, resumedCloudTrail.clientFor));
    // The first request of the resumed run continues the interrupted paging.
    const firstEu = resumedCloudTrail.calls.find((call) => call.region === 'eu-west-1');
    expect(firstEu?.input).toMatchObject({ NextToken: 'tok-50', LookupAttributes: [{ AttributeValue: 'codecommit.amazonaws.com' }] });
    // No successful request was made twice: both runs together asked exactly what one run asks.
    const succeeded = [...failing.calls.filter((call) => call.input.NextToken !== 'tok-50' || call.region !== 'eu-west-1'), ...resumedCloudTrail.calls];
    const asKey = (call: Call) => `${call.region} ${call.input.LookupAttributes?.[0]?.AttributeValue} ${call.input.StartTime?.toISOString()} ${call.input.NextToken ?? ''}`;
    expect(succeeded.map(asKey).sort()).toEqual(baseline.calls.map(asKey).sort());
    expect(resumed.counters).toMatchObject({ events: baselineResult.counters.events, windows: 30 });
    expect(resumed.tallies).toEqual(baselineResult.tallies);
  });

  it('pages a window again when a saved NextToken has expired', async () => {
    const records = history();
    const dir = workdir();
    const path = join(dir, 'checkpoint.json');
    const { state } = await local.freshStores();
    const clock = fakeClock(NOW);
    const failing = fakeCloudTrail(records, clock, (_, call) => (call.region === 'eu-west-1' && call.input.NextToken === 'tok-100' ? new Error('connection lost') : undefined));
    await expect(runBackfill(SOURCES, deps(state, await FileCheckpoint.create(path, newCheckpointData('args', '')), clock, failing.clientFor))).rejects.toThrow();
    let expired = false;
    const resumedCloudTrail = fakeCloudTrail(records, clock, (_, call) => {
      if (call.input.NextToken !== 'tok-100' || expired) return undefined;
      expired = true;
      return new InvalidNextTokenException({ message: 'expired', $metadata: { httpStatusCode: 400 } });
    });
    const resumed = await runBackfill(SOURCES, deps(state, (await FileCheckpoint.load(path, 'args'))!, clock, resumedCloudTrail.clientFor));
    expect(resumedCloudTrail.calls.filter((call) => call.region === 'eu-west-1').slice(0, 4).map((call) => call.input.NextToken)).toEqual(['tok-100', undefined, 'tok-50', 'tok-100']);
    // Events spilled before the interruption and fetched again are counted once.
    expect(resumed.counters.events).toBe(records.filter((record) => record.eventSource !== 'ec2.amazonaws.com').length);
  });

  it('reports a CloudTrailEvent that is not JSON, and keeps only events some rule receives', async () => {
    const clock = fakeClock(NOW);
    const client = new CloudTrailClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    const good = gitPush({ user: 'alice', time: at(30, 9) });
    // A read-only call of the same source that no rule of these use cases receives.
    const unwatched = { ...gitPush({ user: 'alice', time: at(30, 10) }), eventName: 'GetBranch', readOnly: true };
    mockClient(client)
      .on(LookupEventsCommand)
      .resolves({
        Events: [
          { EventId: 'broken-1', CloudTrailEvent: '{"eventVersion": "1.09", ' },
          { EventId: good.eventID, CloudTrailEvent: JSON.stringify(good) },
          { EventId: unwatched.eventID, CloudTrailEvent: JSON.stringify(unwatched) },
        ],
      });
    const problems: string[] = [];
    const { state } = await local.freshStores();
    const checkpoint = memory();
    const spilled: string[] = [];
    const append = checkpoint.appendPending.bind(checkpoint);
    checkpoint.appendPending = async (lines) => {
      spilled.push(...lines);
      await append(lines);
    };
    const result = await runBackfill(
      { lookupEvents: { regions: ['eu-west-1'], eventSources: ['codecommit.amazonaws.com'], days: 1, windowHours: 24 } },
      { ...deps(state, checkpoint, clock, () => client), onProblem: (problem) => problems.push(problem.reason) },
    );
    expect(problems).toEqual([
      expect.stringMatching(/^LookupEvents eu-west-1 codecommit.amazonaws.com 2026-09-30T00:00:00.000Z..2026-10-01T00:00:00.000Z: lookup-events Event invalid: CloudTrailEvent is not valid JSON/),
    ]);
    expect(result.counters).toMatchObject({ events: 2, routed: 1, problems: 1 });
    // Only the push was held for its window.
    expect(spilled.map((line) => (JSON.parse(line) as { EventId: string }).EventId)).toEqual([good.eventID]);
  });

  it('plans at most 90 days, from the archive\'s newest event when both are used', () => {
    const end = new Date('2026-10-01T00:00:00.400Z');
    expect(() => lookupPlan({ regions: ['eu-west-1'], sources: ['x'], days: 91, windowHours: 24, end })).toThrow(/from 1 to 90/);
    const plan = lookupPlan({ regions: ['eu-west-1'], sources: ['x'], days: 90, windowHours: 6, end });
    expect(plan).toMatchObject({ start: '2026-07-03T00:00:00.000Z', end: '2026-10-01T00:00:00.000Z' });
    expect(windowCount(plan)).toBe(360);
    expect(lookupPlan({ regions: [], sources: [], days: 90, windowHours: 24, end, notBefore: '2026-09-29T12:00:00Z' })).toMatchObject({ start: '2026-09-29T12:00:00.000Z' });
  });

  it('runs from the command line against an endpoint, with the SDK clients replaced', async () => {
    const dir = workdir();
    const clock = fakeClock(NOW);
    const cloudTrail = fakeCloudTrail(history(), clock);
    const run = capture();
    const { exitCode } = await runBackfillCommand(
      [],
      { config: writeConfig(dir, CONFIG), lookupEvents: true, days: '30', region: REGIONS, whatIf: true, json: true, endpoint: local.endpoint(), checkpoint: join(dir, 'cp.json') },
      run.io,
      { clock, random: () => 0.5, cloudTrailFor: cloudTrail.clientFor, useCases: USE_CASES },
    );
    expect(run.err()).toMatch(/backfilled \d+ events \(122 LookupEvents requests\) into the local tables at/);
    expect(exitCode).toBe(0);
    const report = JSON.parse(run.out()) as { useCases: Array<{ id: string; alerts: number; topPrincipals: Array<{ key: string }> }> };
    expect(report.useCases.find((u) => u.id === 'source.new-pusher')).toMatchObject({ alerts: 1, topPrincipals: [{ key: userArn('mallory') }] });
  });
});
