/**
 * artifact.hash-mismatch beyond what a labelled case can show: the final judgement (settle) after
 * the deadline, look-ups that fail first and answer later, external origins, and the replay's end.
 * Events come from the use case's own labelled cases, so they stay realistic in one place.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runReplay } from '../../bin/commands/replay.js';
import type { Outcome } from '../../lambdas/engine/engine.js';
import { normaliseContent } from '../../lambdas/engine/normalise-input.js';
import { toPipelineEvent } from '../../lambdas/engine/pipeline-event.js';
import { noLookups, type LookupResult, type Lookups, type PackageVersionAssets } from '../../lambdas/lookups/lookups.js';
import hashMismatch from '../../lambdas/use-cases/artifact/hash-mismatch/use-case.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { tempDir } from '../support/temp-dirs.js';

const dynamo = useLocalDynamo();
const CASES = join(import.meta.dirname, '..', '..', 'lambdas', 'use-cases', 'artifact', 'hash-mismatch', 'cases');

interface Case {
  config: Record<string, unknown>;
  history?: unknown[];
  events: unknown[];
}
const load = (name: string): Case => JSON.parse(readFileSync(join(CASES, `${name}.json`), 'utf8')) as Case;
const envelopes = (raw: unknown[]) => normaliseContent('case.json', JSON.stringify(raw)).events;
const created = (outcomes: Outcome[]) => outcomes.flatMap((o) => (o.status === 'finding' && o.created ? [o.finding] : []));

async function run(config: Record<string, unknown>, lookups: Lookups, raw: unknown[]) {
  const stores = await dynamo.freshEngine(config, lookups);
  const outcomes: Outcome[] = [];
  for (const envelope of envelopes(raw)) outcomes.push(...(await stores.engine.evaluate(hashMismatch, toPipelineEvent(envelope))));
  return { ...stores, outcomes };
}

const listing = (sha: string): LookupResult<PackageVersionAssets> => ({
  status: 'found',
  value: { assets: [{ name: 'payments-service.zip', hashes: { 'SHA-256': sha } }] },
});

describe('artifact.hash-mismatch: the final judgement', () => {
  it('a publish whose build never arrives is high once the deadline has passed, not before', async () => {
    const spec = load('publish-waits-for-its-build');
    const { engine, outcomes } = await run(spec.config, noLookups, spec.events);
    expect(created(outcomes)).toEqual([]);
    expect(created(await engine.settle([hashMismatch], '2026-11-04T02:16:14Z'))).toEqual([]);
    const [finding] = created(await engine.settle([hashMismatch], '2026-11-04T02:16:15Z'));
    expect(finding).toMatchObject({ severity: 'high', mode: 'alert', eventTime: '2026-11-04T01:16:15Z', resource: 'acme/internal-releases/acme/payments-service', team: 'payments' });
    expect(finding?.summary).toContain('was published outside the pipeline: no build of payments-service-build produced payments-service.zip');
  });

  it('a build of the same file around the publish, with another hash, makes it critical', async () => {
    const spec = load('publish-before-build-mismatching-hash');
    // The publishing session names build 1204, whose event never comes; build 1200's neighbour does.
    const [publish] = spec.events;
    const neighbour = structuredClone((spec.events[1] as { detail: Record<string, unknown> }));
    const detail = neighbour.detail;
    detail['build-id'] = String(detail['build-id']).replace(/:[0-9a-f-]{36}$/, ':0d6f3a52-7c1e-4b8a-9f20-3e5d7c9b1a44');
    (neighbour as Record<string, unknown>)['id'] = 'b1a5e7c3-0000-4000-8000-00000000abcd';
    const { engine } = await run(spec.config, noLookups, [publish, neighbour]);
    const [finding] = created(await engine.settle([hashMismatch]));
    expect(finding).toMatchObject({ severity: 'critical' });
    expect(finding?.evidence).toMatchObject({ identifiedBy: 'the build of that file closest to the publish' });
    // The build event's PLAINTEXT token never reaches the finding.
    expect(JSON.stringify(finding)).not.toContain('npm_1Ejkul0GmchJmdrwkyU6XvbvbDYeXvq9xOQg');
  });

  it('lists the assets again at the final judgement when the first look-up failed', async () => {
    const spec = load('native-event-before-build');
    const [nativeEvent] = spec.events;
    let calls = 0;
    const flaky: Lookups = {
      ...noLookups,
      packageVersionAssets: async () => {
        calls += 1;
        return calls === 1 ? { status: 'unavailable', reason: 'ThrottlingException: Rate exceeded' } : listing('f'.repeat(64));
      },
    };
    const { engine, outcomes } = await run(spec.config, flaky, [nativeEvent]);
    expect(created(outcomes)).toEqual([]);
    const [finding] = created(await engine.settle([hashMismatch]));
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(finding).toMatchObject({ severity: 'high', mode: 'alert' });
    expect(finding?.summary).toContain('SHA-256 ffffffffffff');
  });

  it('gives up quietly when the assets can never be listed', async () => {
    const spec = load('native-event-before-build');
    const down: Lookups = { ...noLookups, packageVersionAssets: async () => ({ status: 'unavailable', reason: 'AccessDeniedException: not authorized' }) };
    const { engine } = await run(spec.config, down, [spec.events[0]]);
    expect(await engine.settle([hashMismatch])).toEqual([
      { status: 'skipped', useCase: 'artifact.hash-mismatch', reason: 'could not list the assets: AccessDeniedException: not authorized' },
    ]);
  });

  it('offline without recorded look-ups, does not even wait for a listing that cannot come', async () => {
    const spec = load('native-event-before-build');
    const { engine, outcomes } = await run(spec.config, noLookups, [spec.events[0]]);
    expect(outcomes).toEqual([{ status: 'skipped', useCase: 'artifact.hash-mismatch', reason: 'nothing to correlate' }]);
    expect(await engine.settle([hashMismatch])).toEqual([]);
  });

  it('never checks a version that came from an external connection, nor looks up its assets', async () => {
    const spec = load('native-event-before-build');
    let listed = false;
    const external: Lookups = {
      ...noLookups,
      packageVersionOrigin: async () => ({ status: 'found', value: { originType: 'EXTERNAL', externalConnectionName: 'public:npmjs' } }),
      packageVersionAssets: async () => {
        listed = true;
        return listing('e'.repeat(64));
      },
    };
    const { engine, outcomes } = await run(spec.config, external, [spec.events[0]]);
    expect(outcomes).toEqual([{ status: 'skipped', useCase: 'artifact.hash-mismatch', reason: 'nothing to correlate' }]);
    expect(listed).toBe(false);
    expect(await engine.settle([hashMismatch])).toEqual([]);
  });

  it('a re-delivered publish after its attestation adds nothing', async () => {
    const spec = load('publish-before-build-matching-hash');
    const { engine, outcomes } = await run(spec.config, noLookups, [...spec.events, spec.events[0]]);
    expect(created(outcomes)).toHaveLength(1);
    expect(created(await engine.settle([hashMismatch]))).toEqual([]);
  });
});

describe('artifact.hash-mismatch in a replay', () => {
  function capture() {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: string[] = [];
    stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
    stderr.resume();
    return { io: { stdout, stderr }, lines: () => out.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
  }

  it('survives a day\'s CloudTrail file being read before its native events, and judges the rest at the end', async () => {
    const dir = tempDir('buildwatch-correlate-');
    const matching = load('publish-before-build-matching-hash');
    const waiting = load('publish-waits-for-its-build');
    const cloudTrail = [matching.events[0], waiting.events[0]].map((e) => (e as { detail: unknown }).detail);
    // Lexical order: a-cloudtrail.json first, with publishes from two builds; then the native build event.
    writeFileSync(join(dir, 'a-cloudtrail.json'), JSON.stringify({ Records: cloudTrail }));
    writeFileSync(join(dir, 'b-eventbridge.jsonl'), `${JSON.stringify(matching.events[1])}\n`);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(matching.config));
    const { io, lines } = capture();
    const { exitCode } = await runReplay([join(dir, 'a-cloudtrail.json'), join(dir, 'b-eventbridge.jsonl')], { json: true, config: join(dir, 'config.json') }, io);
    expect(exitCode).toBe(0);
    const mine = lines().filter((f) => f['useCase'] === 'artifact.hash-mismatch');
    expect(mine.map((f) => [f['mode'], f['severity'], f['eventTime']])).toEqual([
      ['attest', 'info', '2026-11-03T10:08:15Z'],
      // Build 1204 never showed up: at the end of the replay its publish is judged.
      ['alert', 'high', '2026-11-04T01:16:15Z'],
    ]);
  });
});
